package ecsdeploy

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A CodeDeploy service with a replacement task set beside the PRIMARY one
// is mid-deployment: the release says how to end a deployment nobody
// will finish.
func TestLiveRevision_CodeDeployServiceMidDeploymentSaysHowToEndIt(t *testing.T) {
	l := &liveService{Service: "classic", Svc: types.Service{
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeCodeDeploy},
		TaskDefinition:       aws.String("arn:aws:ecs:eu-west-1:123456789012:task-definition/classic:3"),
		TaskSets: []types.TaskSet{
			{Id: aws.String("ecs-svc/1"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String("arn:aws:ecs:eu-west-1:123456789012:task-definition/classic:3")},
			{Id: aws.String("ecs-svc/2"), Status: aws.String("ACTIVE"), TaskDefinition: aws.String("arn:aws:ecs:eu-west-1:123456789012:task-definition/classic:4")},
		},
	}}
	_, err := liveRevisionARN(l)
	var unstable *unstableError
	require.True(t, errors.As(err, &unstable), "%v", err)
	assert.Contains(t, err.Error(), "task set ecs-svc/2 of classic:4 is ACTIVE")
	assert.Contains(t, err.Error(), "run backend rollback with --break-lock, which stops its CodeDeploy deployment with auto rollback")

	l.Svc.TaskSets = l.Svc.TaskSets[:1]
	rev, err := liveRevisionARN(l)
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:ecs:eu-west-1:123456789012:task-definition/classic:3", rev)
}
