//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildFrontend_ReturnsTheSiteFolder(t *testing.T) {
	out := ok(t, dagger(t, "build-frontend", "--source", "./examples/frontend", "entries"))
	assert.Contains(t, out, "index.html")
	assert.Contains(t, out, "assets/")

	fails(t, dagger(t, "build-frontend", "--source", "./examples/frontend", "--build-dir", "../elsewhere", "entries"), "--build-dir")
	fails(t, dagger(t, "build-frontend", "--source", "./examples/frontend", "--build-dir", "public", "entries"), "--build-dir")
}

func snapshot(t *testing.T, prefix string) sandbox.Site {
	t.Helper()
	site, err := sandbox.Snapshot(t.Context(), s3Client(), sandbox.SiteBucket, prefix)
	require.NoError(t, err)
	return site
}

// The frontend steps share one site prefix, each checking the bucket.
func TestFrontend(t *testing.T) {
	prefix := unique("e2e-site")
	site := []string{"site", "--bucket", sandbox.SiteBucket, "--prefix", prefix, "--backup-bucket", sandbox.BackupBucket}
	verb := func(args ...string) result { return inSandbox(t, append(append([]string(nil), site...), args...)...) }
	deploy := func(extra ...string) result { return verb(append([]string{"deploy"}, extra...)...) }
	example := built(t, "./examples/frontend")

	t.Run("plan and a dry run change nothing", func(t *testing.T) {
		plan := ok(t, verb("plan", "--dist", example))
		assert.Contains(t, plan, "index.html")
		ok(t, deploy("--dist", example, "--dry-run"))
		assert.Empty(t, snapshot(t, prefix), "nothing was written to the site")
	})

	var first sandbox.Site
	t.Run("deploy publishes the build", func(t *testing.T) {
		rec := record(t, ok(t, deploy("--dist", example)))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		require.NotNil(t, rec.Frontend)
		first = snapshot(t, prefix)
		assert.Contains(t, first, "index.html")
		assert.Equal(t, rec.Frontend.Uploaded, len(first))
	})
	require.NotEmpty(t, first)

	var second sandbox.Site
	t.Run("a second release uploads only what changed", func(t *testing.T) {
		src := copyDir(t, "examples/frontend")
		require.NoError(t, os.WriteFile(filepath.Join(src, "src", "news.txt"), []byte("e2e release 2\n"), 0o644))
		rec := record(t, ok(t, deploy("--dist", built(t, src))))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		assert.Equal(t, 1, rec.Frontend.Uploaded, "only the new asset (index.html does not name it)")
		assert.Equal(t, len(first), rec.Frontend.Skipped, "every file of release 1 is unchanged")
		second = snapshot(t, prefix)
		assert.NotEmpty(t, first.Diff(second))
	})

	t.Run("a publish that breaks midway is restored byte-identical", func(t *testing.T) {
		src := copyDir(t, "examples/frontend")
		require.NoError(t, os.WriteFile(filepath.Join(src, "src", "app.js"), []byte("console.log('e2e release 3')\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(src, "src", "extra.txt"), []byte("uploaded before the failure\n"), 0o644))
		dist := built(t, src)
		require.NoError(t, control.SetFaults(t.Context(), endpoint, []awssim.S3Fault{{KeyContains: prefix + "/assets/app.", Status: 403}}))
		t.Cleanup(func() { _ = control.SetFaults(context.Background(), endpoint, nil) })
		fails(t, deploy("--dist", dist), "restored")
		assert.Empty(t, second.Diff(snapshot(t, prefix)), "the site is release 2 again")
	})

	t.Run("rollback restores the site before the last release", func(t *testing.T) {
		dry := ok(t, verb("rollback", "--dry-run"))
		assert.Contains(t, dry, "DRY RUN OK")
		assert.Empty(t, second.Diff(snapshot(t, prefix)), "the dry run changed nothing")
		rec := record(t, ok(t, verb("rollback")))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		assert.Empty(t, first.Diff(snapshot(t, prefix)), "the site is release 1 again")
		assert.Contains(t, ok(t, verb("status")), rec.ID, "status names the live release")
	})

	t.Run("prune keeps the newest backups, and a kept one still restores the whole site", func(t *testing.T) {
		prune := func(extra ...string) sitepublish.Pruned {
			var res sitepublish.Pruned
			out := ok(t, verb(append([]string{"prune"}, extra...)...))
			require.NoError(t, json.Unmarshal([]byte(out), &res), out)
			return res
		}
		dry := prune("--keep", "1", "--dry-run")
		require.Len(t, dry.Kept, 1)
		assert.GreaterOrEqual(t, len(dry.Deleted), 3, "the deploys and the rollback each took a backup")
		res := prune("--keep", "2")
		require.Len(t, res.Kept, 2)
		assert.Equal(t, dry.Kept[0], res.Kept[0], "the dry run deleted nothing")
		assert.Len(t, res.Deleted, len(dry.Deleted)-1)
		fails(t, verb("prune", "--keep", "0"), "keep 1 or more", "to change it: --keep")

		// The newest backup is the rollback's: the site as release 2 left it.
		rec := record(t, ok(t, verb("rollback", "--backup", res.Kept[0])))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		assert.Empty(t, second.Diff(snapshot(t, prefix)), "the site is release 2 again")
	})

	t.Run("a build with a link out of it is refused by name", func(t *testing.T) {
		before := snapshot(t, prefix)
		dist := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dist, "index.html"), []byte("<html></html>"), 0o644))
		require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dist, "passwd.txt")))
		fails(t, deploy("--dist", dist), "passwd.txt", "outside the build folder")
		assert.Empty(t, before.Diff(snapshot(t, prefix)))
	})

	t.Run("an empty build is refused before anything changes", func(t *testing.T) {
		before := snapshot(t, prefix)
		r := deploy("--dist", t.TempDir())
		fails(t, r, "empty")
		assert.Empty(t, before.Diff(snapshot(t, prefix)))
	})
}

func TestDemo_TellsTheStoryAndEndsWithTheTable(t *testing.T) {
	r := dagger(t, "demo")
	out := ok(t, r)
	for _, step := range []string{"rolled back: backend still runs exactly", "untouched: backend still runs exactly", "both rolled back: backend runs", "promoted to production: the same image by digest",
		"the site is byte-identical to release 2", "the site is byte-identical to release 1 again",
		"the alarm fired during the bake: alias live is back on exactly version",
		"visitors never left release", "site rollback switched the pointer back to release",
		"the gate failed on test traffic: web still runs exactly web:1, production traffic never moved, the record says rolled-back",
		"the gate passed on test traffic, then ECS shifted production and baked: web now runs web:"} {
		assert.Contains(t, r.stderr, "demo: OK: "+step, "the demo tells each step as it happens")
	}
	for _, want := range []string{"every one ended where it should", "rolled-back", "failed", "succeeded", "sandbox-www/site"} {
		assert.Contains(t, out, want)
	}
	releases := regexp.MustCompile(`(?m)^\d{8}T\d{6}Z-[0-9a-f]{6} `).FindAllString(out, -1)
	assert.Len(t, releases, 23, "one line per release record of the story (a two-service release has two, an environment release one more):\n%s", out)
	assert.Contains(t, out, "canary failed; live back on version")
	assert.Contains(t, out, "promoted from staging/")
	assert.Regexp(t, `(?m) backend +sandbox/web +rolled-back +gate failed on test traffic; production stayed on web:1$`, out)
	assert.Regexp(t, `(?m) environment +bluegreen +failed +web: gate failed on test traffic$`, out)
	assert.Regexp(t, `(?m) backend +sandbox/web +succeeded +now on web:\d+$`, out)
	assert.Regexp(t, `(?m) environment +bluegreen +succeeded +services and quality gate passed$`, out)
}

// env --name sandbox release: the backend and the worker from one image, then
// the frontend; a worker that never gets healthy brings everything back.
func TestRelease_TheSandboxEnvironment(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	api, worker := liveRevision(t), liveRevisionOf(t, sandbox.Worker)
	t.Setenv("E2E_WEBHOOK", "http://localhost:4566"+control.WebhooksPath+"?token=e2e-secret-token")
	// --force: TestBackend left both services on an image of this same
	// source, which a release without it rightly leaves alone.
	env := func(name string, args ...string) result {
		return inSandbox(t, append([]string{"env", "--name", name, "--poll-interval", "1s"}, args...)...)
	}
	dry := ok(t, env("sandbox", "release", "--skip-tests", "--dry-run"))
	assert.Contains(t, dry, "DRY RUN OK")
	assert.Contains(t, dry, "plan: release function resize")
	assert.Equal(t, api, liveRevision(t), "the dry run changed nothing")
	r := env("sandbox", "release", "--skip-tests", "--force", "--tag", unique("e2e-release"), "--notify", "env:E2E_WEBHOOK")
	var res struct {
		Outcome   string            `json:"outcome"`
		Backend   []*release.Record `json:"backend"`
		Frontend  *release.Record   `json:"frontend"`
		Functions []*release.Record `json:"functions"`
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, r)), &res), r.stdout)
	assert.Equal(t, release.OutcomeSucceeded, res.Outcome)
	require.Len(t, res.Backend, 2)
	for _, rec := range res.Backend {
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome, rec.Target)
	}
	require.NotNil(t, res.Backend[0].Backend.Snapshot, "the file's snapshotDb was snapshotted before the one migration")
	assert.Equal(t, sandbox.DB, res.Backend[0].Backend.Snapshot.DB)
	shipped := res.Backend[0].Backend.Image
	assert.Equal(t, "sandbox", envOf(liveContainer(t, sandbox.Container))["APP_ENV"], "the file's environment is in the release")
	assert.Contains(t, res.Backend[0].Backend.Changes, "container app: secret DB_URL: (none) -> "+sandbox.SecretARN)
	assert.NotEqual(t, api, liveRevision(t))
	assert.NotEqual(t, worker, liveRevisionOf(t, sandbox.Worker))
	require.NotNil(t, res.Frontend)
	require.Len(t, res.Functions, 1, "the file's function is released after the services and the site")
	assert.Contains(t, []string{release.OutcomeSucceeded, release.OutcomeNoChange}, res.Functions[0].Outcome)
	site := snapshot(t, "release")
	assert.Contains(t, site, "index.html")
	assert.Contains(t, r.stderr, "notified the webhook")
	assert.NotContains(t, r.stdout+r.stderr, "e2e-secret-token", "the webhook URL is a secret")
	hooks, err := control.Webhooks(t.Context(), endpoint)
	require.NoError(t, err)
	require.NotEmpty(t, hooks, "the release notified the sandbox's webhook")
	assert.Contains(t, string(hooks[len(hooks)-1]), `"text":"esteira: release of sandbox succeeded: backend on backend:`)

	api, worker = liveRevision(t), liveRevisionOf(t, sandbox.Worker)
	require.NoError(t, control.SetRules(t.Context(), endpoint, []awssim.Rule{{Family: sandbox.Worker, Service: &awssim.TaskBehavior{Unhealthy: true}}}))
	t.Cleanup(func() { _ = control.SetRules(context.Background(), endpoint, nil) })
	fails(t, env("sandbox", "release", "--skip-tests", "--force", "--tag", unique("e2e-release")),
		"FAILED: worker:", "the site, published beside the rollout, was restored to the release before")
	assert.Equal(t, api, liveRevision(t))
	assert.Equal(t, worker, liveRevisionOf(t, sandbox.Worker))
	assert.Empty(t, site.Diff(snapshot(t, "release")))

	var st struct {
		Services  []struct{ Service, Revision, Image string }
		Functions []struct{ Function, Alias, Version string }
		Site      *release.Record
		Releases  []*release.Record
		Locks     map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, env("sandbox", "status", "--format", "json"))), &st))
	require.Len(t, st.Services, 2)
	assert.Equal(t, api, st.Services[0].Revision)
	assert.Equal(t, worker, st.Services[1].Revision)
	require.Len(t, st.Functions, 1)
	assert.Equal(t, sandbox.Function, st.Functions[0].Function)
	assert.Equal(t, res.Functions[0].Lambda.AfterVersion, st.Functions[0].Version, "the alias is where the release put it")
	require.NotNil(t, st.Site)
	assert.Equal(t, res.Frontend.ID, st.Site.ID, "the site's live release is the one release published")
	assert.NotEmpty(t, st.Releases)
	assert.Empty(t, st.Locks)
	text := ok(t, env("sandbox", "status"))
	assert.Contains(t, text, "SERVICE")
	assert.Contains(t, text, "FUNCTION")
	assert.Contains(t, text, "no deploy lock is held")

	// A failing quality gate: everything goes back, the gate's output is shown.
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	project := t.TempDir()
	for _, ex := range []string{"backend", "frontend"} {
		require.NoError(t, os.Rename(copyDir(t, "examples/"+ex), filepath.Join(project, ex)))
	}
	require.NoError(t, os.WriteFile(filepath.Join(project, "frontend", "src", "news.txt"), []byte("gate drill\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(`environments:
  sandbox:
    repository: backend
    url: http://staging.example
    gate: {image: "debian:bookworm", command: [sh, -c, 'echo "e2e gate: $ESTEIRA_URL answered 503"; exit 1']}
    backend: {source: backend, cluster: sandbox, services: [backend, worker]}
    frontend: {source: frontend, bucket: sandbox-www, prefix: release, backupBucket: sandbox-www-backups}
`), 0o644))
	site = snapshot(t, "release")
	r = inSandbox(t, "env", "--name", "sandbox", "--project", project, "--poll-interval", "1s", "release", "--skip-tests", "--force", "--tag", unique("e2e-gate"))
	fails(t, r, "the quality gate failed", "the site was restored", "every backend service was rolled back")
	assert.Contains(t, r.stderr, "e2e gate: http://staging.example answered 503")
	assert.Equal(t, api, liveRevision(t))
	assert.Equal(t, worker, liveRevisionOf(t, sandbox.Worker))
	assert.Empty(t, site.Diff(snapshot(t, "release")), "the site is as before the release")

	// promote: production gets exactly what passed the sandbox's gate.
	r = env("sandbox", "promote", "--to", "production")
	require.NoError(t, json.Unmarshal([]byte(ok(t, r)), &res), r.stdout)
	assert.Equal(t, release.OutcomeSucceeded, res.Outcome)
	assert.NotContains(t, r.stderr, "==> test ", "promote ships what passed: it never reruns the tests")
	assert.NotRegexp(t, `==> publish  \S`, r.stderr, "nor pushes an image again (the site's own publish step is \"==> publish   ok\")")
	require.Len(t, res.Backend, 2)
	for _, svc := range []string{sandbox.Service, sandbox.Worker} {
		rev, _, err := sandbox.LiveRevision(t.Context(), ecsClient(), sandbox.ProdCluster, svc)
		require.NoError(t, err)
		td, err := ecsClient().DescribeTaskDefinition(t.Context(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(rev)})
		require.NoError(t, err)
		assert.Equal(t, shipped, aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image), "production's %s runs the image that passed the gate", svc)
		assert.Equal(t, "production", envOf(td.TaskDefinition.ContainerDefinitions[0])["APP_ENV"], "with production's own environment from the file")
		assert.NotContains(t, secretsOf(td.TaskDefinition.ContainerDefinitions[0]), "DB_URL", "not the sandbox's secrets")
	}
	assert.Empty(t, site.Diff(snapshot(t, "production")), "production's site is the sandbox's, byte for byte")
	fails(t, env("production", "promote", "--to", "sandbox"), "ran no quality gate")

	// The same objects, with the file's settings: env --name ... status / site plan / backend rollback.
	text = ok(t, env("production", "status"))
	assert.Contains(t, text, "environment production")
	plan := ok(t, env("production", "site", "plan", "--dist", built(t, "./examples/frontend")))
	assert.Contains(t, plan, "0 to upload", "production's site is what passed the sandbox's gate:\n%s", plan)
	assert.Contains(t, ok(t, env("production", "site", "rollback", "--dry-run")), "DRY RUN OK")
	assert.Empty(t, site.Diff(snapshot(t, "production")), "the dry run changed nothing")
	before, _, err := sandbox.LiveRevision(t.Context(), ecsClient(), sandbox.ProdCluster, sandbox.Worker)
	require.NoError(t, err)
	out := ok(t, env("production", "backend", "rollback"))
	var rbs []release.Record
	require.NoError(t, json.Unmarshal([]byte(out), &rbs), out)
	require.Len(t, rbs, 2, "the environment's backend is both services")
	for _, rb := range rbs {
		assert.Equal(t, release.OutcomeSucceeded, rb.Outcome, rb.Target)
	}
	after, _, err := sandbox.LiveRevision(t.Context(), ecsClient(), sandbox.ProdCluster, sandbox.Worker)
	require.NoError(t, err)
	assert.NotEqual(t, before, after, "the worker went back to the revision before the promotion")
	assert.Equal(t, "worker:1", after)
	fails(t, env("production", "lambda", "--name", "nope", "rollback"), `function "nope" is not one of`)
	fails(t, env("nowhere", "status"), `has no environment "nowhere"`, "esteira.yaml")
}

// site --atomic: each release in its own folder, the sandbox's
// KeyValueStore pointer switched once it is complete, rollback a switch back.
func TestFrontendAtomic(t *testing.T) {
	prefix := unique("e2e-atomic")
	site := []string{"site", "--bucket", sandbox.SiteBucket, "--prefix", prefix, "--atomic"}
	verb := func(args ...string) result { return inSandbox(t, append(append([]string(nil), site...), args...)...) }
	pointer := func() string {
		keys, err := control.KeyValueStoreKeys(t.Context(), endpoint, sandbox.KeyValueStore)
		require.NoError(t, err)
		return keys[sandbox.SiteBucket+"/"+prefix]
	}
	deploy := func(src string) result { return verb("deploy", "--dist", built(t, src)) }

	first := record(t, ok(t, deploy("./examples/frontend")))
	assert.Equal(t, release.OutcomeSucceeded, first.Outcome)
	assert.Equal(t, first.ID, first.Frontend.Release)
	assert.Equal(t, first.ID, pointer(), "the pointer names the new release")
	v1 := snapshot(t, prefix+"/"+first.ID)
	assert.Contains(t, v1, "index.html")

	src := copyDir(t, "examples/frontend")
	require.NoError(t, os.WriteFile(filepath.Join(src, "src", "news.txt"), []byte("e2e atomic 2\n"), 0o644))
	second := record(t, ok(t, deploy(src)))
	assert.Equal(t, second.ID, pointer())
	assert.Equal(t, first.ID, second.Frontend.Previous)
	assert.Equal(t, 1, second.Frontend.Uploaded, "unchanged files are copied, not uploaded")
	assert.Empty(t, v1.Diff(snapshot(t, prefix+"/"+first.ID)), "the first release's folder is untouched")

	t.Run("a switch that fails leaves visitors on the release before", func(t *testing.T) {
		src := copyDir(t, "examples/frontend")
		require.NoError(t, os.WriteFile(filepath.Join(src, "src", "news.txt"), []byte("e2e atomic 3\n"), 0o644))
		dist := built(t, src)
		require.NoError(t, control.SetKeyValueStoreFaults(t.Context(), endpoint, []awssim.KVSFault{{Operation: "PutKey", Count: 1, Code: "AccessDeniedException"}}))
		t.Cleanup(func() { _ = control.SetKeyValueStoreFaults(context.Background(), endpoint, nil) })
		fails(t, verb("deploy", "--dist", dist), "still names release "+second.ID)
		assert.Equal(t, second.ID, pointer())
	})

	t.Run("rollback is a switch back to the release the live one replaced", func(t *testing.T) {
		dry := ok(t, verb("rollback", "--dry-run"))
		assert.Contains(t, dry, "switch its live pointer from release "+second.ID+" to release "+first.ID)
		assert.Contains(t, dry, "DRY RUN OK")
		assert.Equal(t, second.ID, pointer(), "the dry run switched nothing")
		rec := record(t, ok(t, inSandbox(t, append(append([]string(nil), site...), "--key-value-store", sandbox.KeyValueStoreARN, "rollback")...)))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		assert.Equal(t, first.ID, rec.Frontend.Release)
		assert.Equal(t, first.ID, pointer())
	})

	t.Run("prune keeps the live release and the one before it", func(t *testing.T) {
		out := ok(t, verb("prune", "--keep", "1"))
		var res sitepublish.Pruned
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		assert.Contains(t, res.Kept, first.ID, "live")
		assert.Empty(t, res.Deleted, "the only other release is the one a rollback would need")
	})

	t.Run("atomic with an invalidation is refused before anything changes", func(t *testing.T) {
		fails(t, inSandbox(t, append(append([]string(nil), site...), "--distribution-id", "E1", "deploy", "--dist", "./examples/frontend")...),
			"leave the distribution out", "to change it: --distribution-id")
	})

	t.Run("an atomic setting on a site released in place is refused before anything changes", func(t *testing.T) {
		live := pointer()
		fails(t, inSandbox(t, "site", "--bucket", sandbox.SiteBucket, "--prefix", prefix, "--backup-bucket", sandbox.BackupBucket,
			"--key-value-store", sandbox.KeyValueStoreARN, "deploy", "--dist", "./examples/frontend"),
			"was given for a site released in place", "to change it: --atomic or --key-value-store")
		assert.NotContains(t, snapshot(t, prefix), "index.html", "nothing was published over the release folders")
		assert.Equal(t, live, pointer())
	})
}
