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
	"github.com/futuraplataforma/esteira/internal/envfile"
	"github.com/futuraplataforma/esteira/internal/envrelease"
	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/notify"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Release the whole environment: services, site and functions, then its gate.
//
// The image is built, tested and pushed once (or --image is taken); every
// service, the site build and every function are checked before anything
// changes; each service is locked and given a new revision; the database
// is snapshotted and the migration runs once; the services roll out
// together and the site is published beside them; then the functions are
// released behind their aliases; then the environment's quality gate (a
// container run against its url) must pass. If any part fails, everything
// that changed is brought back. Returns what each part did as JSON.
//
// +cache="never"
func (e *Environment) Release(
	ctx context.Context,
	// An already-pushed image to deploy instead of building backend.source.
	// +optional
	image string,
	// Image tag for the built image. Default: the git short sha (see publish).
	// +optional
	tag string,
	// Do not run the backend's tests before publishing (its checks still run).
	// +optional
	skipTests bool,
	// Redeploy the services, and release the functions, even if they already run this image and code.
	// +optional
	force bool,
	// Check every part and print what each would change (the site's plan included); build and change nothing in AWS.
	// +optional
	dryRun bool,
	// Webhook to post the outcome to (Slack-compatible JSON with the result), e.g. env:SLACK_WEBHOOK_URL. A failing webhook never fails the release.
	// +optional
	notify *dagger.Secret,
) (string, error) {
	t, err := e.target(ctx, "")
	if err != nil {
		return "", err
	}
	t.force, t.notify, t.dryRun = force, notify, dryRun
	plan, clients := t.plan()
	if b := t.e.Backend; b != nil {
		if plan.Backend, err = t.backendPart(ctx, clients, image, tag, skipTests); err != nil {
			return "", err
		}
	}
	if f := t.e.Frontend; f != nil {
		built, err := (&Esteira{}).BuildFrontend(ctx, e.Project.Directory(f.Source), "node:22-bookworm-slim", "npm run build", orDefault(f.BuildDir, "dist"))
		if err != nil {
			return "", fmt.Errorf("build failed, nothing was changed: %s", why(err))
		}
		dir, err := exportSite(ctx, built)
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		if plan.Frontend, err = t.sitePart(dir); err != nil {
			return "", err
		}
	}
	if len(t.e.Functions) > 0 {
		var img string
		if plan.Backend != nil {
			img = plan.Backend.Deploy.Image
		}
		if plan.Functions, err = t.functionsPart(ctx, clients.Lambda, img); err != nil {
			return "", err
		}
	}
	return t.ship(ctx, plan, clients)
}

// target is the environment a release or a promotion ships to.
type target struct {
	env          *Environment
	e            *envfile.Environment
	in           *Esteira
	s            *awsSession
	force        bool
	dryRun       bool
	notify       *dagger.Secret
	promotedFrom string
}

func (e *Environment) target(ctx context.Context, promotedFrom string) (*target, error) {
	env, in, err := e.read(ctx)
	if err != nil {
		return nil, err
	}
	s, err := in.aws(ctx)
	if err != nil {
		return nil, err
	}
	return &target{env: e, e: env, in: in, s: s, promotedFrom: promotedFrom}, nil
}

// plan starts the environment's plan: clients, gate, record.
func (t *target) plan() (envrelease.Plan, envrelease.Clients) {
	distribution := ""
	if f := t.e.Frontend; f != nil {
		distribution = f.DistributionID
	}
	clients := envrelease.Clients{ECS: ecsClients(t.s), Frontend: siteClients(t.s, distribution), Lambda: lambdaClients(t.s)}
	plan := envrelease.Plan{Out: progress(), Env: t.env.Name, Store: t.s.releases(), Who: t.s.who, PromotedFrom: t.promotedFrom}
	if t.e.Gate != nil {
		plan.Gate = gate(t.env.Name, t.e, t.e.URL)
	}
	return plan, clients
}

// backendPart checks the services and builds, tests and pushes the image
// (a dry run builds nothing).
func (t *target) backendPart(ctx context.Context, c envrelease.Clients, image, tag string, skipTests bool) (*envrelease.BackendPart, error) {
	var checks []release.CheckRecord
	var secrets map[string][]checkSecret
	if image == "" { // the checks will run: each needs its secrets, before anything runs
		var err error
		if secrets, err = t.env.checkSecrets(t.e.Backend.Checks); err != nil {
			return nil, err
		}
	}
	b, err := t.env.backend(ctx, t.e, t.in)
	if err != nil {
		return nil, err
	}
	o, err := b.options(t.s, image, progress())
	if err != nil {
		return nil, err
	}
	o.Force = t.force
	if t.e.Gate != nil && t.e.TestURL != "" {
		o.TestGate = gate(t.env.Name, t.e, t.e.TestURL) // on test traffic, before production moves
	}
	if err := b.preflight(ctx, t.s, o); err != nil {
		return nil, err
	}
	if image == "" {
		if t.e.Backend.Source == "" {
			return nil, errors.New("the environment's backend has no source to build: add backend.source to the file, or pass --image")
		}
		source, dockerfile := t.env.Project.Directory(t.e.Backend.Source), orDefault(t.e.Backend.Dockerfile, "Dockerfile")
		if t.dryRun {
			// Check the repository and the tag; build and push nothing.
			p := push{repository: t.e.Repository, tag: orDefault(tag, "dry-run"), dryRun: true, out: progress()}
			if o.Image, err = p.source(ctx, t.s, source, dockerfile); err != nil {
				return nil, err
			}
		} else {
			started := time.Now()
			if checks, err = runChecks(ctx, source, t.e.Backend.Checks, secrets); err != nil {
				err = fmt.Errorf("checks failed, nothing was published or deployed:\n%w", err)
				recordStopped(ctx, t.s, t.e.Name, started, checks, err)
				return nil, err
			}
			if o.Image, o.PriorSteps, err = buildTestPublish(ctx, t.s, source, t.e.Repository, tag, dockerfile, skipTests, t.e.Backend.Test); err != nil {
				return nil, err
			}
		}
	}
	return &envrelease.BackendPart{Deploy: o, Services: b.Services, Checks: checks}, nil
}

// buildTestPublish runs the foundation steps and times them for the record.
func buildTestPublish(ctx context.Context, s *awsSession, source *dagger.Directory, repository, tag, dockerfile string, skipTests bool, test *envfile.Test) (string, []release.Step, error) {
	rec := &release.Record{}
	if !skipTests {
		started := time.Now()
		if test == nil {
			test = &envfile.Test{}
		}
		_, err := testRun{source: source, target: test.Target, image: test.Image, command: test.Command, goVersion: "1.26",
			packages: []string{"./..."}, dockerfile: dockerfile, services: test.Services}.run(ctx)
		rec.Step("test", started, err, "")
		fmt.Fprintf(progress(), "==> test     %s (%s)\n", outcome(err), time.Since(started).Round(time.Second))
		if err != nil {
			return "", nil, fmt.Errorf("tests failed, nothing was published or deployed: %s", why(err))
		}
	}
	started := time.Now()
	ref, err := push{repository: repository, tag: tag, out: progress()}.source(ctx, s, source, dockerfile)
	rec.Step("publish", started, err, ref)
	if err != nil {
		return "", nil, fmt.Errorf("publish failed, nothing was deployed: %w", err)
	}
	return ref, rec.Steps, nil
}

// sitePart is the site's release options for the build folder dir, with
// every setting of the file.
func (t *target) sitePart(dir string) (*sitepublish.Options, error) {
	site := t.env.site(t.e, t.in)
	o, err := site.options(0, -1, "", nil, 0)
	if err != nil {
		return nil, err
	}
	if err := site.resolve(t.s, &o); err != nil {
		return nil, err
	}
	o.Dir = dir
	return &o, nil
}

// functionsPart is the environment's functions, checked before anything
// changes: zips packaged from the project, image "backend" resolved to the
// image this release ships.
func (t *target) functionsPart(ctx context.Context, c lambdadeploy.Clients, backendImage string) ([]lambdadeploy.Options, error) {
	var out []lambdadeploy.Options
	for _, f := range t.e.Functions {
		o, err := t.env.function(f, t.in).options()
		if err != nil {
			return nil, err
		}
		o.Environment, o.Alarms, o.Force, o.Releases, o.Who = f.Env, f.Alarms, t.force, t.s.releases(), t.s.who
		if o.Canary, err = lambdadeploy.ParseShare(f.Canary); err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		if f.Bake != "" {
			o.Bake, _ = time.ParseDuration(f.Bake) // the file's parser checked it
		}
		switch {
		case f.Source != "":
			if o.Zip, err = zipFolder(ctx, t.env.Project.Directory(f.Source)); err != nil {
				return nil, fmt.Errorf("function %s: %w", f.Name, err)
			}
		case f.Image == envfile.BackendImage && backendImage == "" && t.dryRun:
			fmt.Fprintf(progress(), "==> dry run: function %s takes the image this release would build; its code is not checked\n", f.Name)
			out = append(out, o)
			continue
		case f.Image == envfile.BackendImage:
			if backendImage == "" {
				return nil, fmt.Errorf("function %s takes the backend's image, and this release ships none", f.Name)
			}
			o.ImageURI = backendImage
		default:
			o.ImageURI = f.Image
		}
		if err := lambdadeploy.Preflight(ctx, c, o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// ship runs the plan (a dry run: every part's own dry run), notifies, and
// returns the result as JSON, or a dry run's plan as text.
func (t *target) ship(ctx context.Context, plan envrelease.Plan, clients envrelease.Clients) (string, error) {
	out, text := outputs(t.dryRun)
	plan.DryRun, plan.Out = t.dryRun, out
	for i := range plan.Functions {
		plan.Functions[i].Out = out
	}
	if plan.Backend != nil {
		plan.Backend.Deploy.Out = out
	}
	if plan.Frontend != nil {
		plan.Frontend.Out = out
	}
	res, err := envrelease.Run(ctx, clients, plan)
	if t.dryRun && err == nil {
		return text.String(), nil
	}
	if t.notify != nil && res != nil && !t.dryRun {
		t.notifyHook(ctx, notify.Message{Text: res.Summary(t.env.Name, err), Release: res})
	}
	result, jerr := json.MarshalIndent(res, "", "  ")
	if err != nil {
		if res != nil {
			fmt.Fprintf(progress(), "release result:\n%s\n", result)
		}
		if t.e.Frontend != nil {
			err = t.env.site(t.e, t.in).explain(err)
		}
		return "", fmt.Errorf("release %s: %w", t.env.Name, err)
	}
	return string(result), jerr
}

// gate runs the environment's quality gate container against url (its
// URL, or its test URL while production traffic has not moved); a non-zero
// exit is the error. It never comes from the cache: each release is tested
// anew.
func gate(env string, e *envfile.Environment, url string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		ran := dag.Container().From(e.Gate.Image).
			WithEnvVariable("ESTEIRA_URL", url).
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

// notifyHook posts msg to the webhook; a failure is reported, never returned.
func (t *target) notifyHook(ctx context.Context, msg notify.Message) {
	u, err := plaintext(ctx, t.notify, "--notify")
	if err == nil && t.s.webhookHost[0] != "" {
		u = strings.Replace(u, t.s.webhookHost[0], t.s.webhookHost[1], 1)
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
