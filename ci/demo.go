package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// Show what esteira does, end to end, in a sandbox: no AWS account needed.
//
// It starts the sandbox (see the sandbox function) inside the engine and
// releases the examples through it: a backend deploy from source with a
// migration, a deploy whose new tasks never get healthy (rolled back to
// the exact revision), a deploy whose migration fails (service untouched),
// the API and the worker released together with a worker that never gets
// healthy (both rolled back), a frontend release, a frontend publish that
// breaks midway (site restored byte-identical), a frontend rollback,
// atomic frontend releases (one whose pointer switch fails: visitors stay
// on the release before; a rollback that is one switch back), a release
// of staging from an environment file with its quality gate, promoted to
// production, a function release then a canary whose alarm fires (the
// alias goes back), and a blue/green release whose gate fails on test
// traffic (production never moves) before the same image passes it.
// Each drill is checked against the sandbox's state; the demo fails if
// one does not end as it should.
// Returns a table of the releases and their outcomes.
//
// +cache="never"
func (m *Esteira) Demo(
	ctx context.Context,
	// esteira's own source, which the sandbox's simulator is built from.
	// +defaultPath="/"
	// +ignore=["*", "!go.mod", "!go.sum", "!internal/**", "!cmd/**", "**/*_test.go", "**/testdata"]
	esteiraSource *dagger.Directory,
	// The backend to release: a Go service with a Dockerfile and a migrate command.
	// +defaultPath="/examples/backend"
	backend *dagger.Directory,
	// The frontend to release: an npm project whose build writes dist/.
	// +defaultPath="/examples/frontend"
	// +ignore=["node_modules", "dist"]
	frontend *dagger.Directory,
	// The Lambda function to release: a folder packaged as its zip.
	// +defaultPath="/examples/lambda"
	lambda *dagger.Directory,
) (string, error) {
	svc, err := m.Sandbox(ctx, esteiraSource)
	if err != nil {
		return "", err
	}
	// The demo drives the module's public objects, as a team's own module
	// would; it reads AWS only to check what they did, and scripts the
	// sandbox's failures through its control endpoints.
	in, err := New("", "", "", nil, nil, nil, "", svc)
	if err != nil {
		return "", err
	}
	d := &demo{m: in, backend: backend, frontend: frontend, lambda: lambda}
	say("starting the sandbox (the first run builds it: a few minutes)")
	if d.s, err = d.m.aws(ctx); err != nil {
		return "", err
	}
	d.endpoint = d.s.opts.Endpoint
	d.ecs = ecs.NewFromConfig(d.s.cfg)
	say("sandbox up: cluster %s runs %s and %s; buckets %s", sandbox.Cluster, sandbox.Service, sandbox.Worker, strings.Join(sandbox.Buckets, ", "))
	for _, step := range []struct {
		title string
		run   func(context.Context) error
	}{
		{"backend deploy of a built container, with a migration", d.deploy},
		{"a deploy whose new tasks never get healthy", d.unhealthy},
		{"a deploy whose migration fails", d.failedMigration},
		{"the API and the worker from one image, the worker never healthy", d.twoServices},
		{"site deploy: the live site, then a new release", d.site},
		{"a frontend publish that breaks midway", d.brokenPublish},
		{"site rollback", d.rollbackSite},
		{"an atomic site: a release, a switch that fails, a rollback that is a switch back", d.atomic},
		{"env release of staging from esteira.yaml (quality gate included), then promote it to production", d.promote},
		{"function deploy: a release, then a canary whose alarm fires", d.function},
		{"blue/green release of web: a gate that fails on test traffic, then one that passes", d.blueGreen},
	} {
		d.n++
		fmt.Fprintf(progress(), "\n=== %d. %s\n", d.n, step.title)
		if err := step.run(ctx); err != nil {
			return "", fmt.Errorf("demo step %d (%s): %s", d.n, step.title, why(err))
		}
	}
	return d.table(ctx)
}

type demo struct {
	m                 *Esteira
	s                 *awsSession
	endpoint          string
	ecs               *ecs.Client
	backend, frontend *dagger.Directory
	lambda            *dagger.Directory
	n                 int
	image, revision   string
	firstSite         sandbox.Site
	liveSite          sandbox.Site
}

const demoPrefix = "site"

func say(format string, args ...any) {
	fmt.Fprintf(progress(), "demo: "+format+"\n", args...)
}

var migrationLog = []string{
	"migrating postgres://db.sandbox:5432/app",
	"apply 0001_create_users",
	"apply 0002_add_users_created_at",
	"2 migrations applied",
}

func (d *demo) script(ctx context.Context, rule awssim.Rule) error {
	rule.Family = sandbox.Service
	if rule.RunTask == nil {
		rule.RunTask = &awssim.TaskBehavior{LogLines: map[string][]string{sandbox.Container: migrationLog}}
	}
	return control.SetRules(ctx, d.endpoint, []awssim.Rule{rule})
}

// backendOf is the backend object of the services, with the migration and
// the snapshot before it.
func (d *demo) backendOf(services ...string) (*Backend, error) {
	b, err := d.m.Backend(sandbox.Cluster, services, "", "5m", "1s", 3, false, "1h")
	if err != nil {
		return nil, err
	}
	return b.WithMigration([]string{"migrate"}, nil, sandbox.DB, 10), nil
}

// deployBackend builds, tests and deploys the source's container, or
// redeploys image.
func (d *demo) deployBackend(ctx context.Context, source *dagger.Directory, image string) (string, error) {
	b, err := d.backendOf(sandbox.Service)
	if err != nil {
		return "", err
	}
	if source == nil {
		return b.Deploy(ctx, image, nil, "", "", false, true, false)
	}
	if _, err := d.m.Test(ctx, source, "", "", "", "1.26", []string{"./..."}, "Dockerfile"); err != nil {
		return "", err
	}
	container, err := d.m.Build(source, "Dockerfile", "", nil)
	if err != nil {
		return "", err
	}
	return b.Deploy(ctx, "", container, sandbox.Repository, "demo-1", false, false, false)
}

func (d *demo) live(ctx context.Context) (string, int, error) {
	return sandbox.LiveRevision(ctx, d.ecs, sandbox.Cluster, sandbox.Service)
}

func (d *demo) deploy(ctx context.Context) error {
	if err := d.script(ctx, awssim.Rule{}); err != nil {
		return err
	}
	if _, err := d.deployBackend(ctx, d.backend, ""); err != nil {
		return err
	}
	rev, _, err := d.live(ctx)
	if err != nil {
		return err
	}
	recs, err := d.s.releases().List(ctx, release.KindBackend, sandbox.Cluster+"/"+sandbox.Service)
	if err != nil || len(recs) == 0 {
		return fmt.Errorf("no release record after the deploy: %v", err)
	}
	d.image, d.revision = recs[0].Backend.Image, rev
	snap := recs[0].Backend.Snapshot
	if snap == nil {
		return fmt.Errorf("the release record names no snapshot of %s", sandbox.DB)
	}
	if _, err := rds.NewFromConfig(d.s.cfg).DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(snap.ID)}); err != nil {
		return fmt.Errorf("the snapshot %s the record names is not in RDS: %w", snap.ID, err)
	}
	say("OK: built, tested, pushed %s, snapshotted %s as %s, migrated, and %s now runs %s", d.image, sandbox.DB, snap.ID, sandbox.Service, rev)
	return nil
}

func (d *demo) unhealthy(ctx context.Context) error {
	say("scripting the sandbox: tasks of the next revision never pass their health check")
	if err := d.script(ctx, awssim.Rule{Service: &awssim.TaskBehavior{Unhealthy: true}}); err != nil {
		return err
	}
	return d.expectFailure(ctx, "rolled back", "rolled back to")
}

func (d *demo) failedMigration(ctx context.Context) error {
	say("scripting the sandbox: the next migration exits 1")
	if err := d.script(ctx, awssim.Rule{RunTask: &awssim.TaskBehavior{
		ExitCodes: map[string]int{sandbox.Container: 1},
		LogLines:  map[string][]string{sandbox.Container: {"apply 0003_add_orders", "ERROR: relation \"orders\" already exists"}},
	}}); err != nil {
		return err
	}
	return d.expectFailure(ctx, "untouched", "restore-db-instance-from-db-snapshot")
}

// expectFailure redeploys the image, expects the deploy to fail (saying
// mention) and the service to be on the revision it ran before, with one
// deployment.
func (d *demo) expectFailure(ctx context.Context, how, mention string) error {
	_, err := d.deployBackend(ctx, nil, d.image)
	if err == nil {
		return errors.New("the deploy succeeded; it should have failed")
	}
	say("the deploy failed, as it should: %s", firstLine(err.Error()))
	if !strings.Contains(err.Error(), mention) {
		return fmt.Errorf("the deploy's error does not say %q", mention)
	}
	if err := d.script(ctx, awssim.Rule{}); err != nil {
		return err
	}
	rev, deployments, err := d.live(ctx)
	if err != nil {
		return err
	}
	if rev != d.revision || deployments != 1 {
		return fmt.Errorf("%s runs %s in %d deployments; it should be back on %s alone", sandbox.Service, rev, deployments, d.revision)
	}
	say("OK: %s: %s still runs exactly %s", how, sandbox.Service, rev)
	return nil
}

// twoServices releases the image to the backend and the worker together;
// the worker's new tasks never get healthy, so both go back.
func (d *demo) twoServices(ctx context.Context) error {
	workerBefore, _, err := sandbox.LiveRevision(ctx, d.ecs, sandbox.Cluster, sandbox.Worker)
	if err != nil {
		return err
	}
	say("scripting the sandbox: the worker's next revision never passes its health check")
	if err := control.SetRules(ctx, d.endpoint, []awssim.Rule{{Family: sandbox.Worker, Service: &awssim.TaskBehavior{Unhealthy: true}}}); err != nil {
		return err
	}
	both, err := d.backendOf(sandbox.Service, sandbox.Worker)
	if err != nil {
		return err
	}
	_, err = both.Deploy(ctx, d.image, nil, "", "", false, true, false)
	if rerr := control.SetRules(ctx, d.endpoint, nil); rerr != nil {
		return rerr
	}
	if err == nil {
		return errors.New("the release succeeded; it should have failed")
	}
	say("the release failed, as it should: %s", firstLine(err.Error()))
	if !strings.Contains(err.Error(), "FAILED: "+sandbox.Worker+":") {
		return fmt.Errorf("the release failed, but not because of the worker's rollout: %s", firstLine(err.Error()))
	}
	api, _, err := d.live(ctx)
	if err != nil {
		return err
	}
	worker, _, err := sandbox.LiveRevision(ctx, d.ecs, sandbox.Cluster, sandbox.Worker)
	if err != nil {
		return err
	}
	if api != d.revision || worker != workerBefore {
		return fmt.Errorf("after the failed release %s runs %s and %s runs %s; they should be back on %s and %s",
			sandbox.Service, api, sandbox.Worker, worker, d.revision, workerBefore)
	}
	say("OK: both rolled back: %s runs %s, %s runs %s, as before", sandbox.Service, api, sandbox.Worker, worker)
	return nil
}

// deployFrontend builds the source and releases it to the site.
func (d *demo) deployFrontend(ctx context.Context, source *dagger.Directory) error {
	site, err := d.m.Site(sandbox.SiteBucket, demoPrefix, sandbox.BackupBucket, false, "", "", "", false)
	if err != nil {
		return err
	}
	dist, err := d.m.BuildFrontend(ctx, source, "node:22-bookworm-slim", "npm run build", "dist")
	if err != nil {
		return err
	}
	_, err = site.Deploy(ctx, dist, 0, -1, "", nil, 0, false, false)
	return err
}

func (d *demo) snapshot(ctx context.Context) (sandbox.Site, error) {
	return sandbox.Snapshot(ctx, awsS3(d), sandbox.SiteBucket, demoPrefix)
}

func awsS3(d *demo) *s3.Client { return awsenv.S3Client(d.s.cfg, d.s.opts) }

func (d *demo) site(ctx context.Context) error {
	if err := d.deployFrontend(ctx, d.frontend); err != nil {
		return err
	}
	v1, err := d.snapshot(ctx)
	if err != nil {
		return err
	}
	d.firstSite = v1
	say("the live site: %d files in s3://%s/%s", len(v1), sandbox.SiteBucket, demoPrefix)
	next := d.frontend.WithNewFile("src/news.txt", "esteira demo: release 2\n")
	if err := d.deployFrontend(ctx, next); err != nil {
		return err
	}
	if d.liveSite, err = d.snapshot(ctx); err != nil {
		return err
	}
	if diff := v1.Diff(d.liveSite); diff == "" {
		return errors.New("the second release changed nothing in the bucket")
	}
	say("OK: release 2 is live (%s)", v1.Diff(d.liveSite))
	return nil
}

func (d *demo) brokenPublish(ctx context.Context) error {
	say("scripting the sandbox: S3 refuses uploads of app.* with AccessDenied (server-side copies still work)")
	if err := control.SetFaults(ctx, d.endpoint, []awssim.S3Fault{{KeyContains: "/app.", Status: http.StatusForbidden}}); err != nil {
		return err
	}
	broken := d.frontend.
		WithNewFile("src/app.js", "console.log('release 3');\n").
		WithNewFile("src/news.txt", "esteira demo: release 3\n")
	err := d.deployFrontend(ctx, broken)
	if ferr := control.SetFaults(ctx, d.endpoint, nil); ferr != nil {
		return ferr
	}
	if err == nil {
		return errors.New("the publish succeeded; it should have failed")
	}
	say("the publish failed, as it should: %s", firstLine(err.Error()))
	now, serr := d.snapshot(ctx)
	if serr != nil {
		return serr
	}
	if diff := d.liveSite.Diff(now); diff != "" {
		return fmt.Errorf("the site differs from release 2 after the restore: %s", diff)
	}
	say("OK: the site is byte-identical to release 2 (%d files, same sizes and ETags)", len(now))
	return nil
}

func (d *demo) rollbackSite(ctx context.Context) error {
	site, err := d.m.Site(sandbox.SiteBucket, demoPrefix, sandbox.BackupBucket, false, "", "", "", false)
	if err != nil {
		return err
	}
	if _, err := site.Rollback(ctx, "", 64, false); err != nil {
		return err
	}
	now, err := d.snapshot(ctx)
	if err != nil {
		return err
	}
	if diff := d.firstSite.Diff(now); diff != "" {
		return fmt.Errorf("after the rollback the site differs from release 1: %s", diff)
	}
	say("OK: the site is byte-identical to release 1 again (%s undone)", d.liveSite.Diff(now))
	return nil
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
