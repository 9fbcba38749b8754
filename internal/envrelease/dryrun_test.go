package envrelease_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/envrelease"
	"github.com/futuraplataforma/esteira/internal/release"
)

func (e *env) objects(t *testing.T, bucket string) int {
	t.Helper()
	out, err := e.s3.Client(t).ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	return len(out.Contents)
}

func TestRun_DryRunPlansEveryPartAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	p := e.plan()
	withFunction(t, e, &p, "PK v2")
	p.Backend.Deploy.MigrateCommand = []string{"./app", "migrate"}
	gateRan := false
	p.Gate = func(context.Context) (string, error) { gateRan = true; return "", nil }
	var out bytes.Buffer
	p.Out, p.Backend.Deploy.Out, p.Frontend.Out, p.Functions[0].Out = &out, &out, &out, &out
	p.Env, p.Store, p.Who, p.DryRun = "staging", e.store, "ci", true
	backups := e.objects(t, e.backups)

	res, err := envrelease.Run(t.Context(), e.clients, p)
	require.NoError(t, err, out.String())

	assert.Equal(t, release.OutcomeDryRun, res.Outcome)
	for _, r := range append(append(res.Backend, res.Frontend), res.Functions...) {
		assert.Equal(t, release.OutcomeDryRun, r.Outcome, r.Target)
	}
	assert.Equal(t, e.v1["api"], e.live(t, "api"))
	assert.Equal(t, e.v1["worker"], e.live(t, "worker"))
	for _, op := range []string{"RegisterTaskDefinition", "UpdateService", "RunTask"} {
		assert.Equal(t, map[string]int{"RegisterTaskDefinition": 2}[op], e.sim.Count("ecs", op), op)
	}
	v, _ := e.sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "1", v)
	assert.Zero(t, e.sim.Count("lambda", "UpdateFunctionCode")+e.sim.Count("lambda", "PublishVersion"))
	assert.Zero(t, e.objects(t, e.site), "nothing published")
	assert.Equal(t, backups, e.objects(t, e.backups), "no backup, lock or record written")
	assert.False(t, gateRan, "the gate does not run in a dry run")
	assert.Nil(t, res.Record)

	text := out.String()
	for _, want := range []string{
		"==> release: dry run of staging: the migration, then the backend's services (api, worker) with the site beside their rollout, then the functions (resize), then the quality gate; nothing changes",
		"container app: image: ",
		`run migration "./app migrate"`,
		"DRY RUN OK: nothing was changed",
		"plan: release function resize (Zip) through alias live",
		"==> release: quality gate: runs once every part is out",
		"==> release: DRY RUN OK: every part of staging was checked and planned",
	} {
		assert.Contains(t, text, want)
	}
}

func TestRun_DryRunReportsEveryRefusedPart(t *testing.T) {
	e := newEnv(t)
	p := e.plan()
	withFunction(t, e, &p, "PK v2")
	p.Backend.Deploy.Container = "nope"
	p.Functions[0].Function = "rsize"
	p.DryRun = true
	res, err := envrelease.Run(t.Context(), e.clients, p)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeFailed, res.Outcome)
	assert.Contains(t, err.Error(), "found 2 problem(s); nothing was changed")
	assert.Contains(t, err.Error(), `container "nope" is not in task definition`)
	assert.Contains(t, err.Error(), "function rsize does not exist")
	assert.Equal(t, e.v1["api"], e.live(t, "api"))
	assert.Zero(t, e.objects(t, e.site))
}
