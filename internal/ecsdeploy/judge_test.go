package ecsdeploy

import (
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	v1 = "arn:aws:ecs:eu-west-1:1:task-definition/api:1"
	v2 = "arn:aws:ecs:eu-west-1:1:task-definition/api:2"
)

func dep(status, td string, state types.DeploymentRolloutState, running, desired int32) types.Deployment {
	return types.Deployment{Id: aws.String("ecs-svc/" + status), Status: aws.String(status), TaskDefinition: aws.String(td),
		RolloutState: state, RolloutStateReason: aws.String("reason " + string(state)), RunningCount: running, DesiredCount: desired}
}

func TestWatcherJudge_ReadsOneDescribeServicesAnswer(t *testing.T) {
	tests := []struct {
		name     string
		deps     []types.Deployment
		done     bool
		wantKind string
	}{
		{"InProgress", []types.Deployment{dep("PRIMARY", v2, types.DeploymentRolloutStateInProgress, 1, 2), dep("ACTIVE", v1, types.DeploymentRolloutStateCompleted, 2, 2)}, false, ""},
		{"Completed", []types.Deployment{dep("PRIMARY", v2, types.DeploymentRolloutStateCompleted, 2, 2)}, true, ""},
		{"Failed", []types.Deployment{dep("PRIMARY", v2, types.DeploymentRolloutStateFailed, 0, 2), dep("ACTIVE", v1, types.DeploymentRolloutStateCompleted, 2, 2)}, false, RolloutFailed},
		{"ReplacedByECSRollback", []types.Deployment{dep("PRIMARY", v1, types.DeploymentRolloutStateInProgress, 0, 2), dep("ACTIVE", v2, types.DeploymentRolloutStateFailed, 0, 2)}, false, RolloutReplaced},
		{"Vanished", []types.Deployment{dep("PRIMARY", v1, types.DeploymentRolloutStateCompleted, 2, 2)}, false, RolloutReplaced},
		{"NoRolloutStateStillDraining", []types.Deployment{dep("PRIMARY", v2, "", 2, 2), dep("ACTIVE", v1, "", 2, 2)}, false, ""},
		{"NoRolloutStateAloneAtFullStrength", []types.Deployment{dep("PRIMARY", v2, "", 2, 2)}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &watcher{out: io.Discard}
			done, err := w.judge(types.Service{Deployments: tt.deps}, v2)
			assert.Equal(t, tt.done, done)
			if tt.wantKind == "" {
				require.NoError(t, err)
				return
			}
			var rerr *RolloutError
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, tt.wantKind, rerr.Kind)
			assert.Equal(t, "api:2", rerr.Revision)
		})
	}
}

func TestLiveRevision_IsTheCompletedPrimaryNotTheLatest(t *testing.T) {
	tests := []struct {
		name    string
		deps    []types.Deployment
		want    string
		wantErr string
	}{
		{"Completed", []types.Deployment{dep("PRIMARY", v1, types.DeploymentRolloutStateCompleted, 2, 2)}, v1, ""},
		{"NoRolloutStateAlone", []types.Deployment{dep("PRIMARY", v1, "", 2, 2)}, v1, ""},
		{"MidDeployment", []types.Deployment{dep("PRIMARY", v2, types.DeploymentRolloutStateInProgress, 0, 2), dep("ACTIVE", v1, types.DeploymentRolloutStateCompleted, 2, 2)}, "", "deployment ecs-svc/PRIMARY of api:2 is IN_PROGRESS"},
		{"FailedWithoutRollback", []types.Deployment{dep("PRIMARY", v2, types.DeploymentRolloutStateFailed, 0, 2)}, "", "roll the service back to a revision"},
		{"NoPrimary", nil, "", "has no PRIMARY deployment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := liveRevisionARN(&liveService{Service: "api", Svc: types.Service{Deployments: tt.deps}})
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
