package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/teststack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { teststack.Main(m) }

// sandboxLike starts awssim as the sandbox runs it: in front of a real S3
// server and a real registry, with the S3 server's keys.
func sandboxLike(t *testing.T) (url string, srv *teststack.S3Server) {
	srv = teststack.S3(t)
	reg := teststack.StartRegistry(t)
	url = start(t, "-addr", "127.0.0.1:0", "-seed", "demo-seed.json",
		"-access-key", srv.AccessKeyID, "-secret-key", srv.SecretAccessKey, "-region", srv.Region,
		"-s3-upstream", srv.Endpoint, "-buckets", "gw-site,gw-releases",
		"-registry-upstream", "http://"+reg.Host, "-registry", "localhost:4566", "-registry-password", reg.Password)
	return url, srv
}

func clients(url string, srv *teststack.S3Server, attempts int) (*s3.Client, *ecs.Client) {
	creds := credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, "")
	retryer := retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = attempts })
	return s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(url), UsePathStyle: true, Credentials: creds, Retryer: retryer}),
		ecs.New(ecs.Options{Region: srv.Region, BaseEndpoint: aws.String(url), Credentials: creds})
}

// One endpoint, one set of keys: S3 calls reach the real S3 server (the
// buckets it created at start), ECS calls the simulator, /v2/ the registry.
func TestGateway_ServesS3ECSAndTheRegistryOnOneEndpoint(t *testing.T) {
	url, srv := sandboxLike(t)
	s3c, ecsc := clients(url, srv, 3)
	ctx := t.Context()

	_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("index.html"), Body: strings.NewReader("<h1>hi</h1>")})
	require.NoError(t, err)
	direct, err := srv.Client(t).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("index.html")})
	require.NoError(t, err, "the object is in the real S3 server, not in the simulator")
	body, _ := io.ReadAll(direct.Body)
	assert.Equal(t, "<h1>hi</h1>", string(body))

	out, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"backend"}})
	require.NoError(t, err)
	require.Len(t, out.Services, 1)

	resp, err := http.Get(url + "/v2/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the registry answers /v2/ and asks for its htpasswd credentials")
	assert.Contains(t, resp.Header.Get("Www-Authenticate"), "Basic")
}

// A scripted upload fault refuses the upload but lets server-side copies
// (backups, restores) through; clearing it lets the upload pass again.
func TestGateway_UploadFaultBreaksUploadsButNotCopies(t *testing.T) {
	url, srv := sandboxLike(t)
	s3c, _ := clients(url, srv, 1)
	ctx := t.Context()
	_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("app.js"), Body: strings.NewReader("v1")})
	require.NoError(t, err)

	put(t, url+faultsPath, `{"faults":[{"keyContains":"app.js"}]}`)
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("app.js"), Body: strings.NewReader("v2")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "503")
	_, err = s3c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("gw-releases"), Key: aws.String("backup/app.js"), CopySource: aws.String("gw-site/app.js")})
	require.NoError(t, err)
	_, err = s3c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("app.js"), CopySource: aws.String("gw-releases/backup/app.js")})
	require.NoError(t, err, "a restore by copy passes the fault")

	put(t, url+faultsPath, `{"faults":[]}`)
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("app.js"), Body: strings.NewReader("v2")})
	require.NoError(t, err)

	assert.Contains(t, putStatus(t, url+faultsPath, `{"faults":[{"status":200,"keyContains":"x"}]}`), "400")
	assert.Contains(t, putStatus(t, url+faultsPath, `{"fault":[]}`), "400", "a typo is refused, not silently ignored")
}

// Rules make the next revision's one-off tasks fail, from outside the process.
func TestGateway_RulesScriptTheNextRevisionsTasks(t *testing.T) {
	url, srv := sandboxLike(t)
	_, ecsc := clients(url, srv, 3)
	ctx := t.Context()
	got := put(t, url+rulesPath, `{"rules":[{"family":"backend","runTask":{"exitCodes":{"app":1}}}]}`)
	assert.Contains(t, got, `"fromRevision":2`, "the rule starts at the next revision")
	assert.Contains(t, putStatus(t, url+rulesPath, `{"rules":[{"famly":"backend"}]}`), "400")

	svc, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"backend"}})
	require.NoError(t, err)
	td, err := ecsc.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("backend:1")})
	require.NoError(t, err)
	d := td.TaskDefinition
	_, err = ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: d.Family, ContainerDefinitions: d.ContainerDefinitions,
		NetworkMode: d.NetworkMode, RequiresCompatibilities: d.RequiresCompatibilities, Cpu: d.Cpu, Memory: d.Memory, ExecutionRoleArn: d.ExecutionRoleArn})
	require.NoError(t, err)
	for _, rev := range []string{"backend:1", "backend:2"} {
		run, err := ecsc.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("demo"), TaskDefinition: aws.String(rev),
			NetworkConfiguration: svc.Services[0].NetworkConfiguration})
		require.NoError(t, err)
		var exit *int32
		for deadline := time.Now().Add(10 * time.Second); exit == nil; {
			out, err := ecsc.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("demo"), Tasks: []string{aws.ToString(run.Tasks[0].TaskArn)}})
			require.NoError(t, err)
			if len(out.Tasks) == 1 && aws.ToString(out.Tasks[0].LastStatus) == "STOPPED" {
				exit = out.Tasks[0].Containers[0].ExitCode
				require.NotNil(t, exit)
			}
			require.True(t, time.Now().Before(deadline), "task of %s never stopped", rev)
		}
		if rev == "backend:1" {
			assert.EqualValues(t, 0, *exit, "revisions before the rule are untouched")
		} else {
			assert.EqualValues(t, 1, *exit)
		}
	}
}

func put(t *testing.T, url, body string) string {
	t.Helper()
	got := putStatus(t, url, body)
	require.True(t, strings.HasPrefix(got, "200 "), "PUT %s: %s", url, got)
	return got
}

func putStatus(t *testing.T, url, body string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + string(b)
}

// The sandbox keeps the notifications posted to it, for the tests to read.
func TestGateway_KeepsWebhookNotifications(t *testing.T) {
	url, _ := sandboxLike(t)
	resp, err := http.Post(url+webhooksPath, "application/json", strings.NewReader(`{"text":"esteira: staging succeeded"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, err = http.Post(url+webhooksPath, "application/json", strings.NewReader(`not json`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, err = http.Get(url + webhooksPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.JSONEq(t, `{"webhooks":[{"text":"esteira: staging succeeded"}]}`, string(body))
}

// S3 calls with credentials of a role the simulator's STS handed out reach
// the S3 server, which knows only the root keys: the gateway re-signs them.
func TestGateway_S3WithAnAssumedRoleSession(t *testing.T) {
	url, srv := sandboxLike(t)
	stsc := sts.New(sts.Options{Region: srv.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, "")})
	out, err := stsc.AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/deploy"), RoleSessionName: aws.String("t")})
	require.NoError(t, err)
	c := out.Credentials
	s3c := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))})
	_, err = s3c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("role.txt"), Body: strings.NewReader("via a role")})
	require.NoError(t, err)
	got, err := srv.Client(t).GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("role.txt")})
	require.NoError(t, err)
	got.Body.Close()

	forged := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(url), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "esteira-sim-session-999")})
	_, err = forged.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("x.txt"), Body: strings.NewReader("x")})
	require.Error(t, err, "a session the simulator never handed out is refused")
}

// -db-instances creates the sandbox's databases; /_sandbox/snapshots
// scripts their next snapshots, and a typo is refused.
func TestGateway_SnapshotRulesScriptTheNextSnapshots(t *testing.T) {
	o := awssim.DefaultOptions()
	url := start(t, "-addr", "127.0.0.1:0", "-db-instances", "app-db:postgres")
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, url+snapshotsPath, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, put(`{"snapshots":[{"db":"app-db","refuse":"SnapshotQuotaExceeded"}]}`))
	assert.Equal(t, http.StatusBadRequest, put(`{"snapshots":[{"db":"app-db","fial":true}]}`))
	db := rds.New(rds.Options{Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	_, err := db.CreateDBSnapshot(t.Context(), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("app-db"), DBSnapshotIdentifier: aws.String("s1")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SnapshotQuotaExceeded")

	assert.Equal(t, http.StatusOK, put(`{"snapshots":[]}`))
	out, err := db.CreateDBSnapshot(t.Context(), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("app-db"), DBSnapshotIdentifier: aws.String("s1")})
	require.NoError(t, err)
	assert.Equal(t, "app-db", aws.ToString(out.DBSnapshot.DBInstanceIdentifier))
}

// -functions and -alarms seed Lambda and CloudWatch; /_sandbox/lambda
// scripts the next update's failure and an alarm that fires.
func TestGateway_LambdaRulesScriptUpdatesAndAlarms(t *testing.T) {
	o := awssim.DefaultOptions()
	url := start(t, "-addr", "127.0.0.1:0", "-functions", "resize:Zip", "-alarms", "resize-errors")
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, url+lambdaPath, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusBadRequest, put(`{"alarms":[{"name":"resize-errors","state":"RED"}]}`))
	assert.Equal(t, http.StatusOK, put(`{"updates":[{"function":"resize","fail":"exec format error"}],"alarms":[{"name":"resize-errors","state":"ALARM","reason":"drill"}]}`))
	creds := credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
	cw := cloudwatch.New(cloudwatch.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
	out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"resize-errors"}})
	require.NoError(t, err)
	require.Len(t, out.MetricAlarms, 1)
	assert.Equal(t, "ALARM", string(out.MetricAlarms[0].StateValue))
	fn := lambda.New(lambda.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
	_, err = fn.UpdateFunctionCode(t.Context(), &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("resize"), ZipFile: []byte("PK")})
	require.NoError(t, err)
	cfg, err := fn.GetFunctionConfiguration(t.Context(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("resize")})
	require.NoError(t, err)
	assert.Equal(t, "exec format error", aws.ToString(cfg.LastUpdateStatusReason))
}
