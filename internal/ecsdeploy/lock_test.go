package ecsdeploy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
	"github.com/futuraplataforma/esteira/internal/teststack"
)

// newStore returns a release store in a fresh bucket of a real S3 server.
func newStore(t *testing.T) *release.Store {
	t.Helper()
	s3srv := teststack.S3(t)
	return release.NewStore(s3srv.Client(t), s3srv.NewBucket(t), "")
}

func TestDeploy_RefusesWhileAnotherDeployHoldsTheLock(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	held, err := store.Acquire(t.Context(), "backend/main/api", release.Holder{Who: "alice@laptop", What: "deploy-backend main/api other"}, release.LockOptions{})
	require.NoError(t, err)
	before := e.mutations()

	o := e.opts(imgV2)
	o.Releases, o.Who = store, "bob@ci"
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, "alice@laptop", locked.Holder.Who)
	assert.Contains(t, err.Error(), "alice@laptop")
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Equal(t, before, e.mutations(), "the second deploy must not touch ECS")
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
	recs, err := store.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	assert.Empty(t, recs, "a refused deploy writes no record")

	require.NoError(t, held.Release(t.Context()))
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err, "once released, the deploy goes through")
}

func TestDeploy_BreaksAStaleLockOnlyWhenAsked(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	_, err := store.Acquire(t.Context(), "backend/main/api",
		release.Holder{Who: "crashed@ci", What: "deploy-backend main/api old", Since: time.Now().Add(-3 * time.Hour)}, release.LockOptions{})
	require.NoError(t, err)

	o := e.opts(imgV2)
	o.Releases, o.Who = store, "bob@ci"
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.True(t, locked.Stale)
	assert.Equal(t, []string{"BreakLock"}, setting.Names(err), "the setting that breaks it; the module names its flag")
	assert.Contains(t, err.Error(), "break it")
	assert.Zero(t, e.sim.Count("ecs", "UpdateService"))

	o.BreakLock = true
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)

	// The lock was released at the end: a plain deploy succeeds again.
	o.BreakLock, o.Force = false, true
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
}

func TestRollback_ReturnsToTheRevisionTheLastReleaseReplaced(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	o := e.opts(imgV2)
	o.Releases, o.Who = store, "bob@ci"
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	v2 := rec.Backend.AfterRevision

	recs, err := store.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	require.Len(t, recs, 1, "the release record is written to S3")
	assert.Equal(t, e.v1, recs[0].Backend.BeforeRevision)
	assert.Equal(t, v2, recs[0].Backend.AfterRevision)

	ro := ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", Releases: store, Who: "bob@ci",
		Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out}
	rb, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rb.Outcome)
	svc := e.service(t)
	require.Len(t, svc.Deployments, 1)
	assert.Equal(t, e.v1, aws.ToString(svc.TaskDefinition))
	assert.Equal(t, "COMPLETED", string(svc.Deployments[0].RolloutState))

	// Nothing recorded put api:1 in place, so a second rollback needs --to-revision.
	_, err = ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "name the revision to go back to")

	ro.ToRevision = "2"
	_, err = ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	assert.Equal(t, v2, aws.ToString(e.service(t).TaskDefinition))
}

func TestRollback_ToRevisionWithoutAStore(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, e.opts(imgV2))
	require.NoError(t, err)
	ro := ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", ToRevision: "api:1",
		Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out}
	rec, err := ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.NoError(t, err)
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
	assert.Equal(t, e.v1, rec.Backend.AfterRevision)

	ro.ToRevision = "api:99"
	_, err = ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "check the revision to go back to")

	other := appTaskDef()
	other.Family = aws.String("billing")
	e.register(t, other)
	updates := e.sim.Count("ecs", "UpdateService")
	ro.ToRevision = "billing:1"
	_, err = ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "task definition billing:1 is of family billing, but service api runs family api: name a revision of api")
	assert.Equal(t, updates, e.sim.Count("ecs", "UpdateService"), "another application's revision is never deployed")

	ro.ToRevision = ""
	_, err = ecsdeploy.Rollback(t.Context(), e.clients, ro)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "name the revision to go back to")
}

func TestDeploy_ClusterAndServiceARNsShareTheLockAndRecordsOfTheirNames(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	svc := e.service(t)
	held, err := store.Acquire(t.Context(), "backend/main/api", release.Holder{Who: "alice@laptop", What: "x"}, release.LockOptions{})
	require.NoError(t, err)

	o := e.opts(imgV2)
	o.Cluster, o.Service = aws.ToString(svc.ClusterArn), aws.ToString(svc.ServiceArn)
	o.Releases, o.Who = store, "bob@ci"
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked, "the ARN spelling must hit the same lock")
	assert.Equal(t, "main/api", rec.Target)
	assert.Equal(t, "main", rec.Backend.Cluster)
	assert.Equal(t, "api", rec.Backend.Service)

	require.NoError(t, held.Release(t.Context()))
	rec, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	recs, err := store.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	require.Len(t, recs, 1, "the refused deploy leaves no record")
	assert.Equal(t, "main/api", recs[0].Target)
}

func TestDeploy_TheSecondOfTwoConcurrentDeploysRefusesNamingTheFirst(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	rollingOut := make(chan struct{}, 1)
	e.sim.ECS.OnServiceTask(func(arn string) awssim.TaskBehavior {
		if arn != e.v1 {
			select {
			case rollingOut <- struct{}{}:
			default:
			}
		}
		return awssim.TaskBehavior{}
	})
	first := e.opts(imgV2)
	first.Releases, first.Who, first.PollInterval = store, "alice@ci", 150*time.Millisecond
	done := make(chan error, 1)
	go func() {
		_, err := ecsdeploy.Deploy(t.Context(), e.clients, first)
		done <- err
	}()
	select {
	case <-rollingOut:
	case err := <-done:
		t.Fatalf("the first deploy ended before its rollout began: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the first deploy never started its rollout")
	}

	second := e.opts(repo + "@sha256:" + strings.Repeat("3", 64))
	second.Releases, second.Who = store, "bob@laptop"
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, second)
	require.Error(t, err)
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, "alice@ci", locked.Holder.Who)
	assert.Contains(t, err.Error(), "another deploy is in progress")
	assert.Contains(t, err.Error(), "roll it back to revision api:1",
		"the lock says where to go back to if its deploy died")

	require.NoError(t, <-done, "the first deploy is not disturbed")
	assert.Equal(t, 2, e.sim.Count("ecs", "RegisterTaskDefinition"), "v1 and the first deploy's revision only")
	assert.Equal(t, 1, e.sim.Count("ecs", "UpdateService"))
}

func TestDeploy_RecordsAFailedMigrationWithItsLogInS3(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	e.sim.ECS.OnRunTask(func(awssim.RunTaskCall) awssim.TaskBehavior {
		return awssim.TaskBehavior{ExitCodes: map[string]int{"app": 1}, LogLines: map[string][]string{"app": {"migration 0042 failed"}}}
	})
	o := e.opts(imgV2)
	o.Releases, o.Who, o.MigrateCommand = store, "bob@ci", []string{"./app", "migrate"}
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)

	recs, err := store.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	r := recs[0]
	assert.Equal(t, release.OutcomeFailed, r.Outcome)
	assert.Contains(t, r.Error, "exited 1")
	require.NotNil(t, r.Backend.Migration)
	assert.Equal(t, []string{"migration 0042 failed"}, r.Backend.Migration.Log)
	require.NotNil(t, r.Backend.Migration.ExitCode)
	assert.Equal(t, 1, *r.Backend.Migration.ExitCode)
	assert.Equal(t, e.v1, r.Backend.BeforeRevision)

	// The lock was released even though the deploy failed.
	o.MigrateCommand = nil
	_, err = ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
}

func TestDeploy_RecordsARolledBackReleaseInS3AndReleasesTheLock(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	e.failRevisionsOtherThan(e.v1, awssim.TaskBehavior{Unhealthy: true})
	o := e.opts(imgV2)
	o.Releases, o.Who = store, "bob@ci"
	o.PriorSteps = []release.Step{{Name: "publish", Started: time.Now().Add(-time.Second), Duration: time.Second, Outcome: release.StepOK}}
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)

	recs, err := store.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	r := recs[0]
	assert.Equal(t, release.OutcomeRolledBack, r.Outcome)
	assert.Contains(t, r.Error, "rolled back to api:1")
	assert.Equal(t, e.v1, r.Backend.BeforeRevision)
	assert.True(t, strings.HasSuffix(r.Backend.AfterRevision, "task-definition/api:2"), r.Backend.AfterRevision)
	assert.Equal(t, imgV2, r.Backend.Image, "the image (with its digest) that was deployed")
	assert.Equal(t, "app", r.Backend.Container)
	assert.Nil(t, r.Backend.Migration, "no migration was asked for")
	assert.False(t, r.FinishedAt.Before(r.StartedAt))

	var names []string
	for _, s := range r.Steps {
		names = append(names, s.Name+":"+s.Outcome)
		assert.False(t, s.Started.IsZero(), "step %s has a start time", s.Name)
		if s.Name != "publish" {
			assert.False(t, s.Started.Before(r.StartedAt), "step %s started within the release", s.Name)
		}
		assert.Positive(t, s.Duration, "step %s has a duration", s.Name)
	}
	assert.Equal(t, []string{"publish:" + release.StepOK, "resolve:" + release.StepOK, "check:" + release.StepOK, "lock:" + release.StepOK,
		"register:" + release.StepOK, "deploy:" + release.StepFailed, "rollback:" + release.StepOK}, names)

	// The lock was released although the deploy failed.
	l, err := store.Acquire(t.Context(), "backend/main/api", release.Holder{Who: "alice@ci", What: "check"}, release.LockOptions{})
	require.NoError(t, err)
	require.NoError(t, l.Release(t.Context()))
}

// changeAfterFirstDescribe points the service at another revision right
// after the first DescribeServices answer, as a deploy finishing at that
// moment would.
type changeAfterFirstDescribe struct {
	ecsdeploy.ECSAPI
	to    string
	calls int
}

func (c *changeAfterFirstDescribe) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	out, err := c.ECSAPI.DescribeServices(ctx, in, o...)
	if c.calls++; c.calls == 1 && err == nil {
		if _, uerr := c.ECSAPI.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: in.Cluster, Service: aws.String("api"), TaskDefinition: aws.String(c.to)}); uerr != nil {
			return nil, uerr
		}
	}
	return out, err
}

func TestRollback_RefusesWhenTheServiceChangedBeforeTheLock(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	v2 := e.register(t, appTaskDef())
	v3 := e.register(t, appTaskDef())
	_, err := e.ecs.UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("main"), Service: aws.String("api"), TaskDefinition: aws.String(v2)})
	require.NoError(t, err)
	for i := 0; e.service(t).Deployments[0].RolloutState != "COMPLETED"; i++ {
		require.Less(t, i, 100, "api:2 never completed")
	}
	c := e.clients
	racing := &changeAfterFirstDescribe{ECSAPI: c.ECS, to: v3}
	c.ECS = racing
	updates := e.sim.Count("ecs", "UpdateService")
	_, err = ecsdeploy.Rollback(t.Context(), c, ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", ToRevision: "api:1",
		Releases: newStore(t), Who: "bob@ci", Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service api changed while this rollback was starting (it was on api:2, now api:3)")
	assert.Equal(t, updates+1, e.sim.Count("ecs", "UpdateService"), "only the racing deploy's update")
}
