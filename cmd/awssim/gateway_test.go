package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

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
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
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

	put(t, url+control.FaultsPath, `{"faults":[{"keyContains":"app.js"}]}`)
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("app.js"), Body: strings.NewReader("v2")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "503")
	_, err = s3c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("gw-releases"), Key: aws.String("backup/app.js"), CopySource: aws.String("gw-site/app.js")})
	require.NoError(t, err)
	_, err = s3c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("app.js"), CopySource: aws.String("gw-releases/backup/app.js")})
	require.NoError(t, err, "a restore by copy passes the fault")

	put(t, url+control.FaultsPath, `{"faults":[]}`)
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("gw-site"), Key: aws.String("app.js"), Body: strings.NewReader("v2")})
	require.NoError(t, err)
}

// put PUTs body to url and requires the 200 of an accepted body.
func put(t *testing.T, url, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "PUT %s: %s", url, b)
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

// -db-instances creates the sandbox's databases (package control tests
// the scripting of their snapshots).
func TestRun_DBInstancesAreCreated(t *testing.T) {
	o := awssim.DefaultOptions()
	url := start(t, "-addr", "127.0.0.1:0", "-db-instances", "app-db:postgres")
	db := rds.New(rds.Options{Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	out, err := db.CreateDBSnapshot(t.Context(), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("app-db"), DBSnapshotIdentifier: aws.String("s1")})
	require.NoError(t, err)
	assert.Equal(t, "app-db", aws.ToString(out.DBSnapshot.DBInstanceIdentifier))
}

// -functions and -alarms seed Lambda and CloudWatch (package control tests
// the scripting of their updates and alarm states).
func TestRun_FunctionsAndAlarmsAreCreated(t *testing.T) {
	o := awssim.DefaultOptions()
	url := start(t, "-addr", "127.0.0.1:0", "-functions", "resize:Zip", "-alarms", "resize-errors")
	creds := credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
	cw := cloudwatch.New(cloudwatch.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
	out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"resize-errors"}})
	require.NoError(t, err)
	require.Len(t, out.MetricAlarms, 1)
	assert.Equal(t, "OK", string(out.MetricAlarms[0].StateValue))
	fn := lambda.New(lambda.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
	cfg, err := fn.GetFunctionConfiguration(t.Context(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("resize")})
	require.NoError(t, err)
	assert.Equal(t, "Zip", string(cfg.PackageType))
	alias, err := fn.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("resize"), Name: aws.String("live")})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(alias.FunctionVersion))
}
