package awssim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unfinished are the statuses of a deployment that has not ended.
var unfinished = []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued,
	cdtypes.DeploymentStatusInProgress, cdtypes.DeploymentStatusReady}

// stoppedThenOneInProgress makes two deployments of web-dg that were
// stopped, then a third left in progress; it returns their IDs, oldest
// first.
func stoppedThenOneInProgress(t *testing.T, e cdEnv) []string {
	t.Helper()
	var ids []string
	for i := range 3 {
		id := e.deployV2(t)
		ids = append(ids, id)
		if i < 2 {
			_, err := e.cd.StopDeployment(e.ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id)})
			require.NoError(t, err)
		}
	}
	return ids
}

func (e cdEnv) listAll(t *testing.T, in *codedeploy.ListDeploymentsInput) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for p := codedeploy.NewListDeploymentsPaginator(e.cd, in); p.HasMorePages(); pages++ {
		out, err := p.NextPage(e.ctx)
		require.NoError(t, err)
		ids = append(ids, out.Deployments...)
	}
	return ids, pages
}

func TestCodeDeploy_ListDeploymentsOfAGroupNewestFirstThroughThePaginator(t *testing.T) {
	e := newCodeDeployEnv(t, true)
	ids := stoppedThenOneInProgress(t, e)
	e.sim.CodeDeploy.SetListDeploymentsPage(2)
	group := &codedeploy.ListDeploymentsInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web-dg")}

	all, pages := e.listAll(t, group)
	assert.Equal(t, []string{ids[2], ids[1], ids[0]}, all)
	assert.Equal(t, 2, pages, "two IDs a page")

	open := *group
	open.IncludeOnlyStatuses = unfinished
	got, _ := e.listAll(t, &open)
	assert.Equal(t, []string{ids[2]}, got, "only the deployment that has not ended")

	stopped := *group
	stopped.IncludeOnlyStatuses = []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusStopped}
	got, _ = e.listAll(t, &stopped)
	assert.Equal(t, []string{ids[1], ids[0]}, got)

	everyGroup, _ := e.listAll(t, &codedeploy.ListDeploymentsInput{})
	assert.ElementsMatch(t, ids, everyGroup, "no group named: every deployment of the account")
}

func TestCodeDeploy_ListDeploymentsRefusesWhatAWSRefuses(t *testing.T) {
	e := newCodeDeployEnv(t, true)
	stoppedThenOneInProgress(t, e)
	e.sim.CodeDeploy.SetListDeploymentsPage(2)
	list := func(in codedeploy.ListDeploymentsInput) error {
		_, err := e.cd.ListDeployments(e.ctx, &in)
		return err
	}
	var noApp *cdtypes.ApplicationDoesNotExistException
	require.ErrorAs(t, list(codedeploy.ListDeploymentsInput{ApplicationName: aws.String("nope"), DeploymentGroupName: aws.String("web-dg")}), &noApp)
	var noGroup *cdtypes.DeploymentGroupDoesNotExistException
	require.ErrorAs(t, list(codedeploy.ListDeploymentsInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("nope")}), &noGroup)
	var groupRequired *cdtypes.DeploymentGroupNameRequiredException
	require.ErrorAs(t, list(codedeploy.ListDeploymentsInput{ApplicationName: aws.String("app")}), &groupRequired)
	var appRequired *cdtypes.ApplicationNameRequiredException
	require.ErrorAs(t, list(codedeploy.ListDeploymentsInput{DeploymentGroupName: aws.String("web-dg")}), &appRequired)
	var badStatus *cdtypes.InvalidDeploymentStatusException
	require.ErrorAs(t, list(codedeploy.ListDeploymentsInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web-dg"),
		IncludeOnlyStatuses: []cdtypes.DeploymentStatus{"Paused"}}), &badStatus)
	var badToken *cdtypes.InvalidNextTokenException
	require.ErrorAs(t, list(codedeploy.ListDeploymentsInput{ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("web-dg"),
		NextToken: aws.String("garbage")}), &badToken)
}
