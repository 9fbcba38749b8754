package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/envfile"
	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
)

// Release a Lambda function behind an alias, at once or as a watched canary.
//
// Steps: check the function exists and its package type matches the code
// (--source for a zip function, --image for an image function), the alias
// and the alarms; take the function's lock; set --env on the function and
// update its code, waiting until LastUpdateStatus is Successful (a Failed
// update stops here with Lambda's reason, and nothing is published);
// publish a version; move the alias to it. With --canary 10% the alias
// first routes that share to the new version for --bake while --alarm is
// watched, then takes all traffic. An alarm during the bake, or any failure
// once the alias moved, puts the alias back on the exact version it pointed
// to, and says so. Returns the release record as JSON.
//
// +cache="never"
func (m *Esteira) DeployLambda(
	ctx context.Context,
	// Lambda function name (not an ARN: its lock and records are kept by name).
	function string,
	// Alias to move to the new version; created (without a canary) when it does not exist.
	// +optional
	// +default="live"
	alias string,
	// Folder packaged as the function's zip (for a zip function), e.g. ./examples/lambda. The same files always make the same zip, so a release of unchanged code changes nothing.
	// +optional
	source *dagger.Directory,
	// Container image for an image function, best by digest: the reference publish returns.
	// +optional
	image string,
	// Environment variables set on the function before the version is published, NAME=value, comma-separated (a word without = continues the value before it: SIZES=320,640 is one variable, so a value may hold commas but a name may not follow one without its =); merged over the ones it has. Plain values: keep secrets in Secrets Manager.
	// +optional
	env []string,
	// Share of the alias's traffic the new version gets first, e.g. 10%. Without it the alias moves at once.
	// +optional
	canary string,
	// How long the alarms are watched, at the canary share or after the move, e.g. 10m. Default 5m with --canary.
	// +optional
	bake string,
	// CloudWatch alarms that, in ALARM during the bake, put the alias back. Several, comma-separated.
	// +optional
	alarm []string,
	// Release even if the alias already runs this code.
	// +optional
	force bool,
	// How long to wait for each Lambda update, e.g. 5m.
	// +optional
	// +default="5m"
	timeout string,
	// How often to poll Lambda and the alarms, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Break a lock left by a crashed run. Check first that no other release of this function is running.
	// +optional
	breakLock bool,
) (string, error) {
	durations, err := parseDurations(map[string]string{"--timeout": timeout, "--poll-interval": pollInterval})
	if err != nil {
		return "", err
	}
	o := lambdadeploy.Options{Function: function, Alias: alias, ImageURI: image, Alarms: alarm, Force: force,
		Timeout: durations["--timeout"], PollInterval: durations["--poll-interval"], BreakLock: breakLock, Out: progress()}
	if o.Canary, err = lambdadeploy.ParseShare(canary); err != nil {
		return "", err
	}
	if bake != "" {
		if o.Bake, err = time.ParseDuration(bake); err != nil || o.Bake <= 0 {
			return "", fmt.Errorf("--bake %q is not a positive duration: use a value like 5m", bake)
		}
	}
	if o.Environment, err = lambdadeploy.ParseEnv(env); err != nil {
		return "", err
	}
	if (source == nil) == (image == "") {
		return "", errors.New("pass either --source (a folder to zip, for a zip function) or --image (for an image function)")
	}
	if source != nil {
		if o.Zip, err = zipFolder(ctx, source); err != nil {
			return "", err
		}
	}
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	o.Releases, o.Who = m.releases(s), s.who
	return recordJSON(lambdadeploy.Deploy(ctx, lambdaClients(s), o))
}

// Put a Lambda alias back on the version the last release replaced.
//
// The version comes from the release records in --release-bucket, or from
// --to-version; the alias takes all traffic again (a canary's routing is
// cleared). Returns the release record as JSON.
//
// +cache="never"
func (m *Esteira) RollbackLambda(
	ctx context.Context,
	// Lambda function name.
	function string,
	// Alias to move back.
	// +optional
	// +default="live"
	alias string,
	// Published version to put the alias on, e.g. 41, instead of the one the release records name.
	// +optional
	toVersion string,
	// Break a lock left by a crashed run.
	// +optional
	breakLock bool,
) (string, error) {
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	return recordJSON(lambdadeploy.Rollback(ctx, lambdaClients(s), lambdadeploy.RollbackOptions{
		Function: function, Alias: alias, ToVersion: toVersion, Releases: m.releases(s), Who: s.who, BreakLock: breakLock, Out: progress(),
	}))
}

func lambdaClients(s *awsSession) lambdadeploy.Clients {
	return lambdadeploy.Clients{Lambda: lambda.NewFromConfig(s.cfg), Alarms: cloudwatch.NewFromConfig(s.cfg)}
}

// zipFolder packages the folder as the engine's zip (lambdadeploy.ZipDir).
func zipFolder(ctx context.Context, source *dagger.Directory) ([]byte, error) {
	dir, err := os.MkdirTemp("", "esteira-lambda-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if _, err := source.Export(ctx, dir); err != nil {
		return nil, fmt.Errorf("read --source: %s", why(err))
	}
	zip, err := lambdadeploy.ZipDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--source: %w", err)
	}
	return zip, nil
}

// functionsPart is the environment's functions, checked before anything
// changes: zips packaged from the project, image "backend" resolved to the
// image this release ships.
func (t target) functionsPart(ctx context.Context, project *dagger.Directory, c lambdadeploy.Clients, backendImage string) ([]lambdadeploy.Options, error) {
	var out []lambdadeploy.Options
	for _, f := range t.e.Functions {
		o := lambdadeploy.Options{Function: f.Name, Alias: f.Alias, Environment: f.Env, Alarms: f.Alarms, Force: t.force,
			Timeout: t.timeout, PollInterval: t.poll, Releases: t.in.releases(t.s), Who: t.s.who, BreakLock: t.breakLock, Out: progress()}
		var err error
		if o.Canary, err = lambdadeploy.ParseShare(f.Canary); err != nil {
			return nil, fmt.Errorf("function %s: %w", f.Name, err)
		}
		if f.Bake != "" {
			o.Bake, _ = time.ParseDuration(f.Bake) // the file's parser checked it
		}
		switch {
		case f.Source != "":
			if o.Zip, err = zipFolder(ctx, project.Directory(f.Source)); err != nil {
				return nil, fmt.Errorf("function %s: %w", f.Name, err)
			}
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
