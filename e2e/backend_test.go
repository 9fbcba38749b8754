//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The backend tests share one ECS service, so they run as steps of one
// test, each checking the service before and after it acts.
func TestBackend(t *testing.T) {
	backend := []string{"backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "--poll-interval", "1s", "--timeout", "5m"}
	migrating := append(append([]string(nil), backend...), "with-migration", "--command", "migrate")
	deploy := func(extra ...string) result {
		return inSandbox(t, append(append(append([]string(nil), migrating...), "deploy"), extra...)...)
	}
	script := func(t *testing.T, rule awssim.Rule) {
		rule.Family = sandbox.Service
		require.NoError(t, control.SetRules(t.Context(), endpoint, []awssim.Rule{rule}))
		t.Cleanup(func() { _ = control.SetRules(context.Background(), endpoint, nil) })
	}
	var image string

	t.Run("a published image deploys and migrates first", func(t *testing.T) {
		script(t, awssim.Rule{RunTask: &awssim.TaskBehavior{LogLines: map[string][]string{sandbox.Container: {"e2e: 2 migrations applied"}}}})
		before := liveRevision(t)
		ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-deploy"))))
		r := deploy("--image", ref)
		rec := record(t, ok(t, r))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		require.NotNil(t, rec.Backend.Migration)
		assert.True(t, rec.Backend.Migration.Succeeded)
		assert.Contains(t, rec.Backend.Migration.Log, "e2e: 2 migrations applied", "the migration's log is in the record")
		assert.Contains(t, r.stderr, "e2e: 2 migrations applied", "the migration's log streams to the output")
		assert.NotEqual(t, before, liveRevision(t))
		assert.Equal(t, lastPart(rec.Backend.AfterRevision), liveRevision(t))
		assert.Equal(t, rec.Backend.Image, liveImage(t), "the service runs the image the record names")
		assert.Regexp(t, pushedRef, rec.Backend.Image)
		image = rec.Backend.Image
		stored := storedRecords(t)
		require.NotEmpty(t, stored)
		assert.Equal(t, rec.ID, stored[0].ID, "the record is in the release bucket")
	})
	require.NotEmpty(t, image, "the first deploy must succeed for the others to mean anything")

	t.Run("the same image again changes nothing", func(t *testing.T) {
		before := liveRevision(t)
		rec := record(t, ok(t, deploy("--image", image)))
		assert.Equal(t, release.OutcomeNoChange, rec.Outcome)
		assert.Equal(t, before, liveRevision(t))
	})

	t.Run("a rollout whose tasks never get healthy is rolled back to the exact revision", func(t *testing.T) {
		script(t, awssim.Rule{Service: &awssim.TaskBehavior{Unhealthy: true}})
		before := liveRevision(t)
		fails(t, deploy("--image", image, "--force"), "FAILED")
		assert.Equal(t, before, liveRevision(t))
		assert.Equal(t, 1, deployments(t), "only the old deployment is left")
		assert.Equal(t, release.OutcomeRolledBack, storedRecords(t)[0].Outcome)
	})

	t.Run("a failed migration leaves the service untouched", func(t *testing.T) {
		script(t, awssim.Rule{RunTask: &awssim.TaskBehavior{ExitCodes: map[string]int{sandbox.Container: 1},
			LogLines: map[string][]string{sandbox.Container: {"e2e: ERROR relation users already exists"}}}})
		before, updates := liveRevision(t), serviceEvents(t)
		r := deploy("--image", image, "--force")
		fails(t, r, "exited 1", "e2e: ERROR relation users already exists", "not changed")
		assert.Equal(t, before, liveRevision(t))
		assert.Equal(t, updates, serviceEvents(t), "no deployment was started")
		rec := storedRecords(t)[0]
		assert.Equal(t, release.OutcomeFailed, rec.Outcome)
		assert.False(t, rec.Backend.Migration.Succeeded)
	})

	t.Run("migrate runs the command alone and returns its result", func(t *testing.T) {
		before := liveRevision(t)
		dry := ok(t, inSandbox(t, append(append([]string(nil), migrating...), "migrate", "--dry-run")...))
		assert.Contains(t, dry, "DRY RUN OK")
		out := ok(t, inSandbox(t, append(append([]string(nil), migrating...), "migrate")...))
		var res map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		assert.Equal(t, true, res["succeeded"])
		assert.EqualValues(t, 0, res["exitCode"])
		assert.IsType(t, "", res["duration"], "a text duration like the records'")
		assert.Equal(t, []any{"migrate"}, res["command"])
		assert.Equal(t, before, liveRevision(t))
	})

	t.Run("a credential in the migration command is never printed or returned", func(t *testing.T) {
		r := inSandbox(t, append(append([]string(nil), backend...), "with-migration", "--command", "migrate,--db-password=e2e-hunter2", "migrate")...)
		out := ok(t, r)
		// Dagger's own trace echoes a function's string arguments (that is why
		// credentials belong in Secrets Manager); what esteira prints is the
		// result and its log lines ("| ..." in the trace).
		assert.NotContains(t, out+functionOutput(r.stderr), "e2e-hunter2")
		assert.Contains(t, functionOutput(r.stderr), "==> migrate", "the function's own lines were found")
		var res map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		assert.Equal(t, []any{"migrate", "--db-password=<redacted>"}, res["command"])
	})

	t.Run("rollback goes back to the revision before the last release", func(t *testing.T) {
		last := storedSucceeded(t)
		before := liveRevision(t)
		dry := ok(t, inSandbox(t, append(append([]string(nil), backend...), "rollback", "--dry-run")...))
		assert.Contains(t, dry, "to "+lastPart(last.Backend.BeforeRevision))
		assert.Contains(t, dry, "DRY RUN OK")
		assert.Equal(t, before, liveRevision(t), "the dry run changed nothing")
		out := ok(t, inSandbox(t, append(append([]string(nil), backend...), "rollback")...))
		rec := record(t, out)
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		assert.Equal(t, lastPart(last.Backend.BeforeRevision), liveRevision(t))
	})

	t.Run("an unknown service is refused by name before anything changes", func(t *testing.T) {
		revs := latestRevision(t)
		r := inSandbox(t, "backend", "--cluster", sandbox.Cluster, "--service", "nope", "deploy", "--image", image)
		fails(t, r, `service "nope" not found`, "to fix it: backend --service")
		assert.Equal(t, revs, latestRevision(t), "no task definition was registered")
		fails(t, inSandbox(t, "backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "deploy"), "--image", "--container")
		fails(t, inSandbox(t, "backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "--timeout", "soon", "status"), "--timeout")
	})

	t.Run("several services from one image roll out together, and back together", func(t *testing.T) {
		require.NoError(t, control.SetRules(t.Context(), endpoint, nil), "no drill of an earlier step applies")
		both := sandbox.Service + "," + sandbox.Worker
		group := func(extra ...string) result {
			return inSandbox(t, append([]string{"backend", "--cluster", sandbox.Cluster, "--service", both, "--poll-interval", "1s", "--timeout", "5m",
				"with-migration", "--command", "migrate", "deploy", "--image", image, "--force"}, extra...)...)
		}
		out := ok(t, group())
		var recs []release.Record
		require.NoError(t, json.Unmarshal([]byte(out), &recs), out)
		require.Len(t, recs, 2)
		for _, r := range recs {
			assert.Equal(t, release.OutcomeSucceeded, r.Outcome, r.Target)
		}
		assert.Equal(t, lastPart(recs[1].Backend.AfterRevision), liveRevisionOf(t, sandbox.Worker))
		apiBefore, workerBefore := liveRevision(t), liveRevisionOf(t, sandbox.Worker)

		require.NoError(t, control.SetRules(t.Context(), endpoint, []awssim.Rule{{Family: sandbox.Worker, Service: &awssim.TaskBehavior{Unhealthy: true}}}))
		t.Cleanup(func() { _ = control.SetRules(context.Background(), endpoint, nil) })
		fails(t, group(), "FAILED: worker:", "every service is back on its recorded revision")
		assert.Equal(t, apiBefore, liveRevision(t), "the API, which rolled out fine, was rolled back with the worker")
		assert.Equal(t, workerBefore, liveRevisionOf(t, sandbox.Worker))
	})

	t.Run("a dry run and a plan change nothing", func(t *testing.T) {
		before, revs := liveRevision(t), latestRevision(t)
		dry := ok(t, deploy("--image", image, "--force", "--dry-run"))
		assert.Contains(t, dry, "DRY RUN OK")
		plan := ok(t, inSandbox(t, append(append([]string(nil), migrating...), "plan", "--image", image)...))
		assert.Contains(t, plan, "DRY RUN OK")
		assert.Equal(t, before, liveRevision(t))
		assert.Equal(t, revs, latestRevision(t))
		status := ok(t, inSandbox(t, append(append([]string(nil), backend...), "status")...))
		assert.Contains(t, status, before)
	})
}

// functionOutput keeps the lines the function itself printed from the
// CLI's plain progress: "[1.2s] | ==> ...", without the call trace.
func functionOutput(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "|\x1b[0m ") || strings.Contains(l, "] | ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func record(t *testing.T, out string) release.Record {
	t.Helper()
	var rec release.Record
	require.NoError(t, json.Unmarshal([]byte(out), &rec), "the result is a release record:\n%s", out)
	return rec
}

func storedRecords(t *testing.T) []*release.Record {
	t.Helper()
	recs, err := release.NewStore(s3Client(), sandbox.ReleaseBucket, "esteira").List(t.Context(), release.KindBackend, sandbox.Cluster+"/"+sandbox.Service)
	require.NoError(t, err)
	return recs
}

func storedSucceeded(t *testing.T) *release.Record {
	t.Helper()
	for _, r := range storedRecords(t) {
		if r.Outcome == release.OutcomeSucceeded && r.Backend.BeforeRevision != r.Backend.AfterRevision {
			return r
		}
	}
	t.Fatal("no successful release recorded")
	return nil
}

func describe(t *testing.T) *ecs.DescribeServicesOutput {
	t.Helper()
	out, err := ecsClient().DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String(sandbox.Cluster), Services: []string{sandbox.Service}})
	require.NoError(t, err)
	require.Len(t, out.Services, 1)
	return out
}

func liveRevision(t *testing.T) string {
	t.Helper()
	return liveRevisionOf(t, sandbox.Service)
}

func liveRevisionOf(t *testing.T, service string) string {
	t.Helper()
	rev, _, err := sandbox.LiveRevision(t.Context(), ecsClient(), sandbox.Cluster, service)
	require.NoError(t, err)
	return rev
}

func deployments(t *testing.T) int {
	t.Helper()
	return len(describe(t).Services[0].Deployments)
}

// serviceEvents counts the deployments ECS ever started for the service.
func serviceEvents(t *testing.T) int {
	t.Helper()
	n := 0
	for _, e := range describe(t).Services[0].Events {
		if strings.Contains(aws.ToString(e.Message), "has started") {
			n++
		}
	}
	return n
}

func liveImage(t *testing.T) string {
	t.Helper()
	out, err := ecsClient().DescribeTaskDefinition(t.Context(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(liveRevision(t))})
	require.NoError(t, err)
	return aws.ToString(out.TaskDefinition.ContainerDefinitions[0].Image)
}

func latestRevision(t *testing.T) int32 {
	t.Helper()
	out, err := ecsClient().DescribeTaskDefinition(t.Context(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(sandbox.Service)})
	require.NoError(t, err)
	return out.TaskDefinition.Revision
}

func lastPart(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
