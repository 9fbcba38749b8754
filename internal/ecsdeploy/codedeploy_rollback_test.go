package ecsdeploy_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

var apiGroup = ecsdeploy.CodeDeployGroup{Application: "app", DeploymentGroup: "api-dg"}

// killedInReady leaves the CodeDeploy service as a release killed by the
// engine (Ctrl-C through the dagger CLI) leaves it: its deploy lock held,
// and the CodeDeploy deployment it started waiting in Ready with test
// traffic on the replacement task set, production still on v1, for a
// gate nobody will run. It returns the deployment's ID.
func killedInReady(t *testing.T, e *env, store *release.Store) string {
	t.Helper()
	killedLock(t, store)
	v2 := e.register(t, appTaskDef())
	out, err := e.clients.CodeDeploy.CreateDeployment(t.Context(), &codedeploy.CreateDeploymentInput{
		ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("api-dg"),
		Revision: &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeAppSpecContent, AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(
			`{"version":0.0,"Resources":[{"TargetService":{"Type":"AWS::ECS::Service","Properties":{"TaskDefinition":"` + v2 + `","LoadBalancerInfo":{"ContainerName":"app","ContainerPort":8080}}}}]}`)}},
	})
	require.NoError(t, err)
	id := aws.ToString(out.DeploymentId)
	for range 100 { // each GetDeployment is one step of the simulated deployment
		if cdDeployment(t, e, id).Status == cdtypes.DeploymentStatusReady {
			return id
		}
	}
	t.Fatal("the CodeDeploy deployment never reached Ready")
	return ""
}

// killedLock is the deploy lock a release killed mid-rollout leaves.
func killedLock(t *testing.T, store *release.Store) {
	t.Helper()
	_, err := store.Acquire(t.Context(), "backend/main/api", release.Holder{Who: "alice@laptop",
		What: "backend deploy of main/api; the service ran api:1 before it: if it died mid-rollout, check the service and roll it back to revision api:1"}, release.LockOptions{})
	require.NoError(t, err)
}

func cdDeployment(t *testing.T, e *env, id string) *cdtypes.DeploymentInfo {
	t.Helper()
	out, err := e.clients.CodeDeploy.GetDeployment(t.Context(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	require.NoError(t, err)
	return out.DeploymentInfo
}

// cdMutations counts the calls that change ECS or CodeDeploy.
func (e *env) cdMutations() int {
	n := e.mutations()
	for _, op := range []string{"CreateDeployment", "StopDeployment", "ContinueDeployment"} {
		n += e.sim.Count("codedeploy", op)
	}
	return n
}

func cdRollbackOptions(e *env, store *release.Store) ecsdeploy.RollbackOptions {
	return ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", CodeDeploy: apiGroup, Releases: store, Who: "alice@laptop",
		Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out}
}

// backend rollback after an interrupted release stops the CodeDeploy
// deployment it left waiting in Ready with auto rollback: all traffic back
// on the exact revision before, and a record that says so. The dead
// release's lock is broken only when asked.
func TestRollback_StopsTheCodeDeployDeploymentAnInterruptedReleaseLeft(t *testing.T) {
	e, _ := codeDeployEnv(t)
	store := newStore(t)
	id := killedInReady(t, e, store)
	ro := cdRollbackOptions(e, store)
	before := e.cdMutations()

	_, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "roll it back to revision api:1", "the lock says what the dead release left")
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Equal(t, before, e.cdMutations(), "nothing was changed without breaking the lock")
	assert.Equal(t, cdtypes.DeploymentStatusReady, cdDeployment(t, e, id).Status)

	ro.BreakLock = true
	rec, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	d := cdDeployment(t, e, id)
	assert.Equal(t, cdtypes.DeploymentStatusStopped, d.Status)
	require.NotNil(t, d.RollbackInfo)
	rollbackID := aws.ToString(d.RollbackInfo.RollbackDeploymentId)
	require.NotEmpty(t, rollbackID, "stopped with auto rollback")
	assert.Equal(t, cdtypes.DeploymentStatusSucceeded, cdDeployment(t, e, rollbackID).Status)
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition), "the exact pre-deploy revision")

	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, "codedeploy blue/green", rec.Backend.Strategy, "the record names the controller")
	assert.Equal(t, id, rec.Backend.ServiceDeployment, "and the deployment it stopped")
	assert.Equal(t, e.v1, rec.Backend.BeforeRevision)
	assert.Equal(t, e.v1, rec.Backend.AfterRevision)
	recs, err := store.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	last := recs[0].Steps[len(recs[0].Steps)-1]
	assert.Equal(t, "rollback", last.Name)
	assert.Contains(t, last.Detail, "rollback deployment "+rollbackID+" Succeeded: all production traffic is on api:1")
	assert.Contains(t, e.out.String(), "production 100% blue / 0% green")

	// Nothing is in progress any more: the lock is free, and a release can
	// create its deployment.
	o := e.opts(imgV2)
	o.CodeDeploy = map[string]ecsdeploy.CodeDeployGroup{"api": apiGroup}
	o.Releases, o.Who = store, "alice@laptop"
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
}

// A dry run says which deployment it would stop and changes nothing, not
// even the lock.
func TestRollback_DryRunOfACodeDeployDeploymentInProgressChangesNothing(t *testing.T) {
	e, _ := codeDeployEnv(t)
	store := newStore(t)
	id := killedInReady(t, e, store)
	ro := cdRollbackOptions(e, store)
	ro.DryRun, ro.BreakLock = true, true
	before := e.cdMutations()

	rec, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeDryRun, rec.Outcome)
	assert.Contains(t, e.out.String(), "would stop CodeDeploy deployment "+id+" of api (Ready) with auto rollback")
	assert.Contains(t, e.out.String(), "DRY RUN OK")
	assert.Equal(t, before, e.cdMutations())
	assert.Equal(t, cdtypes.DeploymentStatusReady, cdDeployment(t, e, id).Status)
	h, err := store.Held(t.Context(), "backend/main/api")
	require.NoError(t, err)
	require.NotNil(t, h, "the dead release's lock is still there")
	assert.Contains(t, h.What, "backend deploy of main/api", "and still the dead release's")
}

// A revision named for the rollback must be the one the deployment in
// progress replaced: stopping it can go back to nothing else.
func TestRollback_OfACodeDeployDeploymentToAnotherRevisionIsRefused(t *testing.T) {
	e, _ := codeDeployEnv(t)
	store := newStore(t)
	id := killedInReady(t, e, store)
	ro := cdRollbackOptions(e, store)
	ro.BreakLock, ro.ToRevision = true, "api:2"
	before := e.cdMutations()
	_, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "can only stop it and go back to that revision, not to api:2")
	assert.Equal(t, before, e.cdMutations())
	assert.Equal(t, cdtypes.DeploymentStatusReady, cdDeployment(t, e, id).Status)
}

// Without its application and deployment group, a CodeDeploy service's
// rollback is refused naming the setting, before anything changes.
func TestRollback_CodeDeployServiceNeedsItsDeploymentGroup(t *testing.T) {
	e, _ := codeDeployEnv(t)
	store := newStore(t)
	id := killedInReady(t, e, store)
	before := e.cdMutations()
	for name, g := range map[string]ecsdeploy.CodeDeployGroup{
		"none":    {},
		"unknown": {Application: "app", DeploymentGroup: "nope"},
	} {
		t.Run(name, func(t *testing.T) {
			ro := cdRollbackOptions(e, store)
			ro.CodeDeploy, ro.BreakLock = g, true
			_, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
			require.Error(t, err)
			assert.Equal(t, []string{"CodeDeploy"}, setting.Names(err))
			assert.Contains(t, err.Error(), "nothing was changed")
			assert.Equal(t, before, e.cdMutations())
		})
	}
	assert.Equal(t, cdtypes.DeploymentStatusReady, cdDeployment(t, e, id).Status)
}

// With no deployment in progress, the rollback releases the revision the
// last release replaced by a new CodeDeploy deployment, not gated.
func TestRollback_ACodeDeployServiceGoesBackByANewDeployment(t *testing.T) {
	e, o := codeDeployEnv(t)
	store := newStore(t)
	runs := 0
	o.Releases, o.Who, o.TestGate = store, "bob@ci", gate(&runs, nil)
	deployed, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	require.NotEqual(t, e.v1, aws.ToString(e.service(t).TaskDefinition))

	ro := cdRollbackOptions(e, store)
	ro.DryRun = true
	before := e.cdMutations()
	_, err = ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	assert.Contains(t, e.out.String(), "create a CodeDeploy deployment of api:1 in app/api-dg (no gate)")
	assert.Equal(t, before, e.cdMutations(), "a dry run changes nothing")

	ro.DryRun = false
	rec, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
	assert.Equal(t, e.v1, rec.Backend.AfterRevision)
	require.NotEmpty(t, rec.Backend.ServiceDeployment)
	assert.NotEqual(t, deployed.Backend.ServiceDeployment, rec.Backend.ServiceDeployment, "a deployment of its own")
	assert.Equal(t, cdtypes.DeploymentStatusSucceeded, cdDeployment(t, e, rec.Backend.ServiceDeployment).Status)
	assert.Equal(t, 1, runs, "going back is not gated")
}

// A release meeting the deployment an interrupted release left waiting in
// Ready says that nothing will finish it, and how to end it; it changes
// nothing.
func TestDeploy_SaysHowToEndTheCodeDeployDeploymentAnInterruptedReleaseLeft(t *testing.T) {
	e, o := codeDeployEnv(t)
	id := killedInReady(t, e, newStore(t))
	before := e.cdMutations()
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service api is in the middle of CodeDeploy deployment "+id+" of app/api-dg")
	assert.Contains(t, err.Error(), "if the release that started it was interrupted, nothing will finish it: run backend rollback with --break-lock")
	assert.Equal(t, before, e.cdMutations(), "refused before anything changed")
	assert.Equal(t, cdtypes.DeploymentStatusReady, cdDeployment(t, e, id).Status)

	// With the dead release's lock still held, it names the lock's holder.
	o.Releases, o.Who = newStore(t), "bob@ci"
	killedLock(t, o.Releases)
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another deploy is in progress")
	assert.Contains(t, err.Error(), "roll it back to revision api:1")
	assert.Equal(t, before, e.cdMutations())
}
