package awssim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// capture keeps the raw body of the last response.
type capture struct {
	mu   sync.Mutex
	last []byte
}

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.last = body
	c.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// notSimulated are fields of the real record the simulator leaves out: the
// ENI details of awsvpc tasks, which esteira never reads.
var notSimulated = []string{"_about", "attachments", "networkInterfaces"}

// TestDescribeTasks_MatchesTheRealMigrationTaskRecord runs a one-off task
// of a two-container task definition (as in the real record: app plus
// datadog-agent) to STOPPED and compares the wire record with the real one
// in ../migration/testdata/ecs-migration-task.json: the same fields, the
// same final values, the same lifecycle order and timestamps in order.
func TestDescribeTasks_MatchesTheRealMigrationTaskRecord(t *testing.T) {
	data, err := os.ReadFile("../migration/testdata/ecs-migration-task.json")
	require.NoError(t, err)
	var real map[string]any
	require.NoError(t, json.Unmarshal(data, &real))

	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	raw := &capture{}
	api := ecs.New(ecs.Options{Region: o.Region, BaseEndpoint: aws.String(url), HTTPClient: raw,
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	sim.ECS.CreateCluster("main")
	reg, err := api.RegisterTaskDefinition(t.Context(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("w-stg"), NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("512"), Memory: aws.String("1024"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("datadog-agent"), Image: aws.String("datadog/agent:7"), Essential: aws.Bool(true)},
			{Name: aws.String("w-stg"), Image: aws.String("r/w:1"), Essential: aws.Bool(true)},
		},
	})
	require.NoError(t, err)
	run, err := api.RunTask(t.Context(), &ecs.RunTaskInput{Cluster: aws.String("main"), TaskDefinition: reg.TaskDefinition.TaskDefinitionArn,
		LaunchType: types.LaunchTypeFargate, NetworkConfiguration: awsvpc, Group: aws.String("migration"),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("w-stg"), Command: []string{"migrate"}}}}})
	require.NoError(t, err)

	var statuses []string
	var got map[string]any
	for len(statuses) == 0 || statuses[len(statuses)-1] != "STOPPED" {
		require.Less(t, len(statuses), 20, "the task never stopped: %v", statuses)
		_, err := api.DescribeTasks(t.Context(), &ecs.DescribeTasksInput{Cluster: aws.String("main"), Tasks: []string{aws.ToString(run.Tasks[0].TaskArn)}})
		require.NoError(t, err)
		var out struct{ Tasks []map[string]any }
		require.NoError(t, json.Unmarshal(raw.last, &out))
		require.Len(t, out.Tasks, 1)
		got = out.Tasks[0]
		if s := got["lastStatus"].(string); len(statuses) == 0 || statuses[len(statuses)-1] != s {
			statuses = append(statuses, s)
		}
	}
	// The real task was seen PROVISIONING, PENDING, RUNNING, DEPROVISIONING, STOPPED.
	assert.Equal(t, []string{"PENDING", "RUNNING", "DEPROVISIONING", "STOPPED"}, statuses, "RunTask answered PROVISIONING")
	assert.Equal(t, "PROVISIONING", aws.ToString(run.Tasks[0].LastStatus))

	assertSameKeys(t, "task", real, got)
	for _, k := range []string{"lastStatus", "desiredStatus", "stopCode", "stoppedReason", "group", "launchType", "cpu", "memory", "healthStatus", "connectivity"} {
		assert.Equal(t, real[k], got[k], k)
	}
	realContainers, gotContainers := real["containers"].([]any), got["containers"].([]any)
	require.Len(t, gotContainers, len(realContainers))
	for i := range realContainers {
		rc, gc := realContainers[i].(map[string]any), gotContainers[i].(map[string]any)
		assertSameKeys(t, "container", rc, gc)
		for _, k := range []string{"lastStatus", "exitCode", "healthStatus"} {
			assert.Equal(t, rc[k], gc[k], "container %v %s", gc["name"], k)
		}
	}
	var times []float64
	for _, k := range []string{"createdAt", "connectivityAt", "pullStartedAt", "pullStoppedAt", "startedAt", "executionStoppedAt", "stoppingAt", "stoppedAt"} {
		v, ok := got[k].(float64) // ECS sends epoch seconds
		require.True(t, ok, "%s is %v", k, got[k])
		times = append(times, v)
	}
	assert.True(t, slices.IsSorted(times), "timestamps out of lifecycle order: %v", times)
}

func assertSameKeys(t *testing.T, what string, real, got map[string]any) {
	t.Helper()
	for k := range real {
		if _, ok := got[k]; !ok && !slices.Contains(notSimulated, k) {
			t.Errorf("%s field %q of the real record is missing from the simulator's", what, k)
		}
	}
}
