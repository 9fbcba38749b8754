package migration

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realStoppedTask is a real DescribeTasks record of a migration task
// (testdata/ecs-migration-task.json, from ../shared/fixtures): an app
// container and a datadog-agent sidecar, both exited 0, stopCode
// EssentialContainerExited.
func realStoppedTask(t *testing.T) *types.Task {
	t.Helper()
	data, err := os.ReadFile("testdata/ecs-migration-task.json")
	require.NoError(t, err)
	var task types.Task
	require.NoError(t, json.Unmarshal(data, &task))
	require.Len(t, task.Containers, 2)
	return &task
}

const realApp, realAgent = "************-w-stg", "datadog-agent"

func TestJudge_OnlyEssentialContainersExitCodesDecide(t *testing.T) {
	code := func(v int32) *int32 { return &v }
	tests := []struct {
		name      string
		essential map[string]*bool // per container; nil = ECS's default (essential)
		exits     map[string]*int32
		ok        bool
		failure   string
	}{
		{"RealRecordSucceeds", map[string]*bool{realApp: aws.Bool(true), realAgent: aws.Bool(true)}, nil, true, ""},
		{"EssentialIsTheDefault", map[string]*bool{realApp: nil, realAgent: nil}, map[string]*int32{realAgent: code(1)}, false, "exited 1 (container datadog-agent)"},
		{"AnotherEssentialContainerFails", map[string]*bool{realApp: aws.Bool(true), realAgent: aws.Bool(true)}, map[string]*int32{realAgent: code(137)}, false, "exited 137 (container datadog-agent)"},
		{"NonEssentialSidecarIsIgnored", map[string]*bool{realApp: aws.Bool(true), realAgent: aws.Bool(false)}, map[string]*int32{realAgent: code(143)}, true, ""},
		{"EssentialWithoutExitCodeFails", map[string]*bool{realApp: aws.Bool(true), realAgent: aws.Bool(true)}, map[string]*int32{realAgent: nil}, false, "container datadog-agent stopped without an exit code"},
		{"TargetFails", map[string]*bool{realApp: aws.Bool(true), realAgent: aws.Bool(false)}, map[string]*int32{realApp: code(1)}, false, "exited 1 (container " + realApp + ")"},
		// --container naming a non-essential container: its exit code still decides.
		{"NonEssentialTargetFails", map[string]*bool{realApp: aws.Bool(false), realAgent: aws.Bool(true)}, map[string]*int32{realApp: code(1)}, false, "exited 1 (container " + realApp + ")"},
		{"NonEssentialTargetWithoutExitCodeFails", map[string]*bool{realApp: aws.Bool(false), realAgent: aws.Bool(true)}, map[string]*int32{realApp: nil}, false, "container " + realApp + " stopped without an exit code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := realStoppedTask(t)
			for i, c := range task.Containers {
				if v, ok := tt.exits[aws.ToString(c.Name)]; ok {
					task.Containers[i].ExitCode = v
				}
			}
			td := &types.TaskDefinition{TaskDefinitionArn: task.TaskDefinitionArn}
			for _, name := range []string{realAgent, realApp} {
				td.ContainerDefinitions = append(td.ContainerDefinitions, types.ContainerDefinition{Name: aws.String(name), Essential: tt.essential[name]})
			}
			res := &Result{}
			judge(res, task, Spec{TaskDefinition: td, Container: realApp})
			assert.Equal(t, tt.ok, res.Succeeded, res.Failure)
			assert.Equal(t, "EssentialContainerExited", res.StopCode)
			if tt.ok {
				assert.Empty(t, res.Failure)
				return
			}
			assert.Contains(t, res.Failure, tt.failure)
			assert.Contains(t, res.Failure, "(stopped reason: Essential container in task exited)")
		})
	}
}
