package control_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	kvstypes "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// seed is one cluster with a rolling service on revision 1 of its family,
// a blue/green one watching alarm web-5xx and a CodeDeploy one with its
// deployment group.
const seed = `{"clusters": ["demo"],
 "taskDefinitions": [{"family": "backend", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
   "cpu": "256", "memory": "512", "containerDefinitions": [{"name": "app", "image": "backend:v1", "essential": true}]}],
 "services": [{"cluster": "demo", "name": "backend", "taskDefinition": "backend:1", "desiredCount": 1,
   "subnets": ["subnet-0demo"], "securityGroups": ["sg-0demo"]},
  {"cluster": "demo", "name": "web", "taskDefinition": "backend:1", "desiredCount": 1, "strategy": "BLUE_GREEN", "alarms": ["web-5xx"]},
  {"cluster": "demo", "name": "classic", "taskDefinition": "backend:1", "desiredCount": 1, "deploymentController": "CODE_DEPLOY"}],
 "deploymentGroups": [{"application": "demo", "name": "classic-dg", "cluster": "demo", "service": "classic",
   "prodListenerArn": "l-80", "targetGroups": ["classic-blue", "classic-green"], "containerName": "app", "containerPort": 8080}]}`

// serve runs Handler in front of a simulator holding the seed, a DB
// instance, a function with its alarm and a KeyValueStore (its ARN is
// returned): every endpoint has something to script.
func serve(t *testing.T) (url string, sim *awssim.Server, storeARN string) {
	t.Helper()
	sim = awssim.New(awssim.DefaultOptions())
	require.NoError(t, sim.ECS.ApplySeed([]byte(seed)))
	sim.RDS.AddDBInstance("app-db", "postgres")
	sim.Lambda.AddFunction("resize", "Zip")
	sim.Alarms.Set("resize-errors", "OK", "")
	sim.Alarms.Set("web-5xx", "OK", "")
	storeARN, err := sim.KVS.CreateStore("site")
	require.NoError(t, err)
	srv := httptest.NewServer(control.Handler(sim, awssim.NewGateway(sim, nil, nil)))
	t.Cleanup(srv.Close)
	return srv.URL, sim, storeARN
}

func credsOf(sim *awssim.Server) (aws.CredentialsProvider, string) {
	o := sim.Options()
	return credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, ""), o.Region
}

// Rules make the next revision's one-off tasks fail, from outside the process.
func TestHandler_RulesScriptTheNextRevisionsTasks(t *testing.T) {
	url, sim, _ := serve(t)
	got := put(t, url+control.RulesPath, `{"rules":[{"family":"backend","runTask":{"exitCodes":{"app":1}}}]}`)
	assert.Contains(t, got, `"fromRevision":2`, "the rule starts at the next revision")
	assert.Contains(t, putStatus(t, url+control.RulesPath, `{"rules":[{"famly":"backend"}]}`), "400")

	creds, region := credsOf(sim)
	ecsc := ecs.New(ecs.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds})
	ctx := t.Context()
	svc, err := ecsc.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"backend"}})
	require.NoError(t, err)
	td, err := ecsc.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("backend:1")})
	require.NoError(t, err)
	d := td.TaskDefinition
	_, err = ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: d.Family, ContainerDefinitions: d.ContainerDefinitions,
		NetworkMode: d.NetworkMode, RequiresCompatibilities: d.RequiresCompatibilities, Cpu: d.Cpu, Memory: d.Memory})
	require.NoError(t, err)
	for rev, want := range map[string]int32{"backend:1": 0, "backend:2": 1} {
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
		assert.Equal(t, want, *exit, "%s: revisions before the rule are untouched", rev)
	}
}

// Upload faults are checked before they replace the ones in force.
func TestHandler_FaultsAreCheckedAndListed(t *testing.T) {
	url, _, _ := serve(t)
	put(t, url+control.FaultsPath, `{"faults":[{"keyContains":"app.js"}]}`)
	assert.Contains(t, putStatus(t, url+control.FaultsPath, `{"faults":[{"status":200,"keyContains":"x"}]}`), "400")
	assert.Contains(t, putStatus(t, url+control.FaultsPath, `{"fault":[]}`), "400", "a typo is refused, not silently ignored")
	assert.JSONEq(t, `{"faults":[{"keyContains":"app.js"}]}`, get(t, url+control.FaultsPath), "a refused body changes nothing")
}

// The sandbox keeps the notifications posted to it, for the tests to read.
func TestHandler_KeepsWebhookNotifications(t *testing.T) {
	url, _, _ := serve(t)
	resp, err := http.Post(url+control.WebhooksPath, "application/json", strings.NewReader(`{"text":"esteira: staging succeeded"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, err = http.Post(url+control.WebhooksPath, "application/json", strings.NewReader(`not json`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.JSONEq(t, `{"webhooks":[{"text":"esteira: staging succeeded"}]}`, get(t, url+control.WebhooksPath))
}

// Only the newest MaxWebhooks notifications are kept.
func TestHandler_KeepsTheNewestWebhooks(t *testing.T) {
	url, _, _ := serve(t)
	for i := range control.MaxWebhooks + 2 {
		resp, err := http.Post(url+control.WebhooksPath, "application/json", strings.NewReader(fmt.Sprintf(`{"n":%d}`, i)))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	var got struct{ Webhooks []struct{ N int } }
	require.NoError(t, json.Unmarshal([]byte(get(t, url+control.WebhooksPath)), &got))
	require.Len(t, got.Webhooks, control.MaxWebhooks)
	assert.Equal(t, 2, got.Webhooks[0].N, "the two oldest are dropped")
	assert.Equal(t, control.MaxWebhooks+1, got.Webhooks[control.MaxWebhooks-1].N)
}

// /_sandbox/snapshots scripts the next snapshots of a DB, and a typo is refused.
func TestHandler_SnapshotRulesScriptTheNextSnapshots(t *testing.T) {
	url, sim, _ := serve(t)
	assert.Contains(t, putStatus(t, url+control.SnapshotsPath, `{"snapshots":[{"db":"app-db","refuse":"SnapshotQuotaExceeded"}]}`), "200 ")
	assert.Contains(t, putStatus(t, url+control.SnapshotsPath, `{"snapshots":[{"db":"app-db","fial":true}]}`), "400")
	creds, region := credsOf(sim)
	db := rds.New(rds.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds})
	_, err := db.CreateDBSnapshot(t.Context(), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("app-db"), DBSnapshotIdentifier: aws.String("s1")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SnapshotQuotaExceeded")

	put(t, url+control.SnapshotsPath, `{"snapshots":[]}`)
	out, err := db.CreateDBSnapshot(t.Context(), &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("app-db"), DBSnapshotIdentifier: aws.String("s1")})
	require.NoError(t, err)
	assert.Equal(t, "app-db", aws.ToString(out.DBSnapshot.DBInstanceIdentifier))
}

// /_sandbox/lambda scripts the next update's failure and an alarm that fires.
func TestHandler_LambdaRulesScriptUpdatesAndAlarms(t *testing.T) {
	url, sim, _ := serve(t)
	assert.Contains(t, putStatus(t, url+control.LambdaPath, `{"alarms":[{"name":"resize-errors","state":"RED"}]}`), "400")
	put(t, url+control.LambdaPath, `{"updates":[{"function":"resize","fail":"exec format error"}],"alarms":[{"name":"resize-errors","state":"ALARM","reason":"drill"}]}`)
	creds, region := credsOf(sim)
	cw := cloudwatch.New(cloudwatch.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds})
	out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"resize-errors"}})
	require.NoError(t, err)
	require.Len(t, out.MetricAlarms, 1)
	assert.Equal(t, "ALARM", string(out.MetricAlarms[0].StateValue))
	fn := lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds})
	_, err = fn.UpdateFunctionCode(t.Context(), &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("resize"), ZipFile: []byte("PK")})
	require.NoError(t, err)
	cfg, err := fn.GetFunctionConfiguration(t.Context(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("resize")})
	require.NoError(t, err)
	assert.Equal(t, "exec format error", aws.ToString(cfg.LastUpdateStatusReason))
}

// /_sandbox/deployments scripts the next rollbacks and deployments that
// fail, checks every rule first, and sets the alarms it names.
func TestHandler_DeploymentRulesScriptFailuresAndAlarms(t *testing.T) {
	url, sim, _ := serve(t)
	put(t, url+control.DeploymentsPath, `{"ecs":[{"service":"web","failRollback":true}],`+
		`"codeDeploy":[{"deploymentGroup":"classic-dg","failAt":"AfterAllowTestTraffic"}],"alarms":[{"name":"web-5xx","state":"ALARM"}]}`)
	for body, reason := range map[string]string{
		`{"ecs":[{"servce":"web"}]}`:                                     "unknown field",
		`{"ecs":[{"service":"backend","failRollback":true}]}`:            "deploys ROLLING",
		`{"codeDeploy":[{"deploymentGroup":"classic-dg","failAt":"x"}]}`: `failAt "x" is not a lifecycle event`,
		`{"alarms":[{"name":"web-4xx"}]}`:                                "no alarm web-4xx",
	} {
		got := putStatus(t, url+control.DeploymentsPath, body)
		assert.Contains(t, got, "400", body)
		assert.Contains(t, got, reason, body)
	}
	assert.JSONEq(t, `{"ecs":[{"service":"web","failRollback":true}],"codeDeploy":[{"deploymentGroup":"classic-dg","failAt":"AfterAllowTestTraffic"}],`+
		`"alarms":[{"name":"resize-errors","state":"OK"},{"name":"web-5xx","state":"ALARM"}]}`, get(t, url+control.DeploymentsPath), "a refused body changes nothing")

	creds, region := credsOf(sim)
	cw := cloudwatch.New(cloudwatch.Options{Region: region, BaseEndpoint: aws.String(url), Credentials: creds})
	out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"web-5xx"}})
	require.NoError(t, err)
	require.Len(t, out.MetricAlarms, 1)
	assert.Equal(t, "ALARM", string(out.MetricAlarms[0].StateValue))

	put(t, url+control.DeploymentsPath, `{}`)
	assert.JSONEq(t, `{"ecs":[],"codeDeploy":[],"alarms":[{"name":"resize-errors","state":"OK"},{"name":"web-5xx","state":"ALARM"}]}`,
		get(t, url+control.DeploymentsPath), "an empty PUT clears the failures not used yet; alarms keep their state")
}

// KeyValueStore faults need a count, a typo is refused, and a fault fails
// the next call, then is used up.
func TestHandler_KeyValueStoreFaultsFailTheNextCalls(t *testing.T) {
	url, sim, storeARN := serve(t)
	assert.Contains(t, putStatus(t, url+control.KeyValueStorePath, `{"faults":[{"operation":"PutKey"}]}`), "400", "count is required")
	assert.Contains(t, putStatus(t, url+control.KeyValueStorePath, `{"fault":[]}`), "400", "a typo is refused")
	put(t, url+control.KeyValueStorePath, `{"faults":[{"operation":"PutKey","count":1}]}`)
	assert.Contains(t, get(t, url+control.KeyValueStorePath), `"faults":[{"operation":"PutKey","count":1}]`)

	creds, region := credsOf(sim)
	c := kvs.New(kvs.Options{BaseEndpoint: aws.String(url), Region: region, RetryMaxAttempts: 1,
		EndpointResolverV2: awsenv.KeyValueStoreEndpoints(), Credentials: creds})
	etag := sim.KVS.Stores()[0].ETag
	in := &kvs.PutKeyInput{KvsARN: aws.String(storeARN), Key: aws.String("/old"), Value: aws.String("/new"), IfMatch: aws.String(etag)}
	_, err := c.PutKey(t.Context(), in)
	var internal *kvstypes.InternalServerException
	require.ErrorAs(t, err, &internal)
	_, err = c.PutKey(t.Context(), in)
	require.NoError(t, err)
	assert.Contains(t, get(t, url+control.KeyValueStorePath), `"keys":{"/old":"/new"}`)
	assert.Contains(t, get(t, url+control.KeyValueStorePath), `"faults":[]`, "the fault is used up")
}

// Other methods are refused with the ones the endpoint takes.
func TestHandler_RefusesOtherMethods(t *testing.T) {
	url, _, _ := serve(t)
	for path, allow := range map[string]string{control.RulesPath: "GET, PUT", control.WebhooksPath: "GET, POST"} {
		req, err := http.NewRequest(http.MethodDelete, url+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, path)
		assert.Equal(t, allow, resp.Header.Get("Allow"), path)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", url, b)
	return strings.TrimSpace(string(b))
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
