package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/envfile"
	"github.com/futuraplataforma/esteira/internal/envrelease"
	"github.com/futuraplataforma/esteira/internal/notify"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Release a whole environment of esteira.yaml: services, frontend and functions.
//
// The environment file names the region, the release bucket, the ECR
// repository, the ECS services deployed from the backend image, the static
// frontend and the Lambda functions. The image is built, tested and pushed
// once (or --image is taken); every service, the frontend build and every
// function are checked before anything changes; each service is locked and
// given a new revision; the database is snapshotted (backend.snapshotDb)
// and the migration runs once; the services roll out together and the
// frontend is published beside them; then the functions are released, each
// behind its alias (with its canary and bake); then the environment's
// quality gate (a container run against its url) must pass.
// If any part fails, everything that changed is brought back: the services
// to the revisions they ran before, the site to its backup, each alias to
// its version. Returns what each part did as JSON. Settings given before
// the function name win over the file's.
//
// +cache="never"
func (m *Esteira) Release(
	ctx context.Context,
	// The environment to release, e.g. staging.
	env string,
	// The project: esteira.yaml and the folders it names.
	// +defaultPath="/"
	// +ignore=["**/node_modules", ".cache", "**/.terraform"]
	project *dagger.Directory,
	// The environment file, relative to the project.
	// +optional
	// +default="esteira.yaml"
	file string,
	// An already-pushed image to deploy instead of building backend.source.
	// +optional
	image string,
	// Image tag for the built image. Default: the git short sha (see publish).
	// +optional
	tag string,
	// Do not run the Go tests before publishing.
	// +optional
	skipTests bool,
	// Redeploy the services, and release the functions, even if they already run this image and code.
	// +optional
	force bool,
	// How long to wait for the migration and for each rollout, e.g. 15m.
	// +optional
	// +default="15m"
	timeout string,
	// How often to poll ECS while waiting, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Break deploy locks left by a crashed run.
	// +optional
	breakLock bool,
	// Webhook to post the outcome to (Slack-compatible JSON with the result), e.g. env:SLACK_WEBHOOK_URL. A failing webhook never fails the release. With --sandbox, http://localhost:4566/_sandbox/webhooks keeps it in the sandbox.
	// +optional
	notify *dagger.Secret,
) (string, error) {
	durations, err := parseDurations(map[string]string{"--timeout": timeout, "--poll-interval": pollInterval})
	if err != nil {
		return "", err
	}
	e, in, s, err := m.environment(ctx, project, file, env)
	if err != nil {
		return "", err
	}
	t := target{env: env, e: e, in: in, s: s, timeout: durations["--timeout"], poll: durations["--poll-interval"],
		breakLock: breakLock, force: force, notify: notify}
	plan, clients, err := t.plan(ctx)
	if err != nil {
		return "", err
	}
	if b := e.Backend; b != nil {
		if plan.Backend, err = in.backendPart(ctx, s, clients.ECS, project, e, image, tag, skipTests); err != nil {
			return "", err
		}
	}
	if f := e.Frontend; f != nil {
		dir, prior, err := in.siteFolder(ctx, project.Directory(f.Source), nil, "node:22-bookworm-slim", "npm run build", orDefault(f.BuildDir, "dist"))
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		plan.Frontend = t.site(dir, prior)
	}
	if len(e.Functions) > 0 {
		var img string
		if plan.Backend != nil {
			img = plan.Backend.Deploy.Image
		}
		if plan.Functions, err = t.functionsPart(ctx, project, clients.Lambda, img); err != nil {
			return "", err
		}
	}
	return t.ship(ctx, plan, clients)
}

// target is the environment a release or a promotion ships to.
type target struct {
	env          string
	e            *envfile.Environment
	in           *Esteira
	s            *awsSession
	timeout      time.Duration
	poll         time.Duration
	breakLock    bool
	force        bool
	notify       *dagger.Secret
	promotedFrom string
}

// plan starts the environment's plan: clients, gate, record.
func (t target) plan(ctx context.Context) (envrelease.Plan, envrelease.Clients, error) {
	clients := envrelease.Clients{ECS: t.in.ecsClients(t.s), Frontend: t.in.siteClients(t.s, ""), Lambda: lambdaClients(t.s)}
	if f := t.e.Frontend; f != nil && f.DistributionID != "" {
		clients.Frontend = t.in.siteClients(t.s, f.DistributionID)
	}
	plan := envrelease.Plan{Out: progress(), Env: t.env, Store: t.in.releases(t.s), Who: t.s.who, PromotedFrom: t.promotedFrom}
	if t.e.Gate != nil {
		plan.Gate = gate(t.env, t.e)
	}
	return plan, clients, nil
}

// site is the frontend part for the build folder dir.
func (t target) site(dir string, prior []release.Step) *sitepublish.Options {
	f := t.e.Frontend
	return &sitepublish.Options{Dir: dir, Bucket: f.Bucket, Prefix: f.Prefix, BackupBucket: f.BackupBucket,
		Keep: f.Keep, DistributionID: f.DistributionID, MaxDelete: 1000, Releases: t.in.releases(t.s), Who: t.s.who, BreakLock: t.breakLock,
		PriorSteps: prior, Out: progress()}
}

// ship runs the plan, notifies, and returns the result as JSON.
func (t target) ship(ctx context.Context, plan envrelease.Plan, clients envrelease.Clients) (string, error) {
	if plan.Backend != nil {
		plan.Backend.Deploy.Timeout, plan.Backend.Deploy.PollInterval = t.timeout, t.poll
		plan.Backend.Deploy.BreakLock, plan.Backend.Deploy.Force = t.breakLock, t.force
	}
	res, err := envrelease.Run(ctx, clients, plan)
	if t.notify != nil && res != nil {
		t.in.notify(ctx, t.s, t.notify, notifyMessage(t.env, res, err))
	}
	out, jerr := json.MarshalIndent(res, "", "  ")
	if err != nil {
		if res != nil {
			fmt.Fprintf(progress(), "release result:\n%s\n", out)
		}
		return "", fmt.Errorf("release %s: %w", t.env, err)
	}
	return string(out), jerr
}

// gate runs the environment's quality gate container against its URL; a
// non-zero exit is the error. It never comes from the cache: each release
// is tested anew.
func gate(env string, e *envfile.Environment) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		ran := dag.Container().From(e.Gate.Image).
			WithEnvVariable("ESTEIRA_URL", e.URL).
			WithEnvVariable("ESTEIRA_ENV", env).
			WithEnvVariable("ESTEIRA_GATE_RUN", time.Now().UTC().Format(time.RFC3339Nano)).
			WithExec(e.Gate.Command, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny, Expand: true})
		code, err := ran.ExitCode(ctx)
		if err != nil {
			return "", fmt.Errorf("run the gate %s: %s", e.Gate.Image, why(err))
		}
		out, err := ran.CombinedOutput(ctx)
		if err != nil {
			return "", fmt.Errorf("read the gate's output: %s", why(err))
		}
		fmt.Fprint(progress(), indent(out))
		if code != 0 {
			return out, fmt.Errorf("%s exited %d", strings.Join(e.Gate.Command, " "), code)
		}
		return out, nil
	}
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    | " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    | ") + "\n"
}

func notifyMessage(env string, res *envrelease.Result, err error) notify.Message {
	return notify.Message{Text: res.Summary(env, err), Release: res}
}

// notify posts msg to the webhook; a failure is reported, never returned.
// With the sandbox, localhost:4566 is the sandbox, as for images.
func (m *Esteira) notify(ctx context.Context, s *awsSession, hook *dagger.Secret, msg notify.Message) {
	u, err := plaintext(ctx, hook, "--notify")
	if err == nil && s.sandbox != nil {
		u = strings.Replace(u, "://"+sandbox.Registry, "://"+strings.TrimPrefix(s.endpoint, "http://"), 1)
	}
	if err == nil {
		err = notify.Post(ctx, u, msg)
	}
	if err != nil {
		fmt.Fprintf(progress(), "warning: the notification was not sent (the release itself is unaffected): %v\n", err)
		return
	}
	fmt.Fprintln(progress(), "==> notified the webhook")
}

// environment reads env from the project's file and returns it with the
// settings it implies (flags win) and the AWS session.
func (m *Esteira) environment(ctx context.Context, project *dagger.Directory, file, env string) (*envfile.Environment, *Esteira, *awsSession, error) {
	data, err := project.File(file).Contents(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s in the project (create it, or pass --file): %s", file, why(err))
	}
	e, err := envfile.Parse(file, []byte(data), env)
	if err != nil {
		return nil, nil, nil, err
	}
	in := *m
	if in.Region == "" {
		in.Region = e.Region
	}
	if in.ReleaseBucket == "" {
		in.ReleaseBucket, in.ReleasePrefix = e.ReleaseBucket, orDefault(e.ReleasePrefix, in.ReleasePrefix)
	}
	s, err := in.aws(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if e.Role != "" {
		if s.cfg, s.who, err = awsenv.AssumeRole(ctx, s.cfg, e.Role, "esteira-"+env); err != nil {
			return nil, nil, nil, fmt.Errorf("environments.%s.role in %s: %w", env, file, err)
		}
	}
	return e, &in, s, nil
}

// Show what runs where in an environment of esteira.yaml.
//
// For each service: its live revision, image, running/desired tasks and
// rollout state; the site's live release; the last releases with their
// outcomes; every deploy lock held. It changes nothing.
//
// +cache="never"
func (m *Esteira) Status(
	ctx context.Context,
	// The environment, e.g. production.
	env string,
	// The project: esteira.yaml.
	// +defaultPath="/"
	// +ignore=["**/node_modules", ".cache", "**/.terraform"]
	project *dagger.Directory,
	// The environment file, relative to the project.
	// +optional
	// +default="esteira.yaml"
	file string,
	// Output: text, for a person, or json.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	if format != "text" && format != "json" {
		return "", fmt.Errorf("--format %q: use text or json", format)
	}
	e, in, s, err := m.environment(ctx, project, file, env)
	if err != nil {
		return "", err
	}
	where := envrelease.Where{}
	if b := e.Backend; b != nil {
		where.Cluster, where.Container, where.Services = b.Cluster, b.Container, b.Services
	}
	if f := e.Frontend; f != nil {
		where.Site = strings.TrimSuffix(f.Bucket+"/"+strings.Trim(f.Prefix, "/"), "/")
	}
	for _, f := range e.Functions {
		where.Functions = append(where.Functions, envrelease.FunctionRef{Name: f.Name, Alias: f.Alias})
	}
	st, err := envrelease.ReadStatus(ctx, envrelease.Clients{ECS: in.ecsClients(s), Lambda: lambdaClients(s)}, in.releases(s), where)
	if err != nil {
		return "", err
	}
	if format == "text" {
		return fmt.Sprintf("environment %s\n\n%s", env, st.Text()), nil
	}
	out, err := json.MarshalIndent(st, "", "  ")
	return string(out), err
}

// backendPart checks the services and builds, tests and pushes the image.
func (m *Esteira) backendPart(ctx context.Context, s *awsSession, c ecsdeploy.Clients, project *dagger.Directory,
	e *envfile.Environment, image, tag string, skipTests bool) (*envrelease.BackendPart, error) {
	b := e.Backend
	o := ecsdeploy.DeployOptions{Cluster: b.Cluster, Container: b.Container, Image: image, MigrateCommand: b.Migrate,
		SnapshotDB: b.SnapshotDB, SnapshotKeep: b.SnapshotKeep, Releases: m.releases(s), Who: s.who, Out: progress()}
	for _, svc := range b.Services {
		po := o
		po.Service = svc
		if err := ecsdeploy.Preflight(ctx, c, po); err != nil {
			return nil, err
		}
	}
	if image == "" {
		if b.Source == "" {
			return nil, errors.New("the environment's backend has no source to build: add backend.source to the file, or pass --image")
		}
		var err error
		if o.Image, o.PriorSteps, err = m.buildTestPublish(ctx, s, project.Directory(b.Source), e.Repository, tag,
			orDefault(b.Dockerfile, "Dockerfile"), false, skipTests); err != nil {
			return nil, err
		}
	}
	o.Service = b.Services[0]
	return &envrelease.BackendPart{Deploy: o, Services: b.Services}, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
