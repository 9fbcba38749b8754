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
	"github.com/futuraplataforma/esteira/ci/internal/hints"
	"github.com/futuraplataforma/esteira/internal/envrelease"
	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
)

// LambdaFunction is a Lambda function released behind an alias (the type is not
// called Function: Dagger's core API has a type of that name).
type LambdaFunction struct {
	// +private
	M *Esteira
	// +private
	Name string
	// +private
	Alias string
	// +private
	Timeout string
	// +private
	PollInterval string
	// +private
	BreakLock bool
}

// A Lambda function behind an alias: deploy, rollback, status.
func (m *Esteira) Lambda(
	// Lambda function name (not an ARN: its lock and records are kept by name).
	name string,
	// Alias that takes the new versions; created (without a canary) when it does not exist.
	// +optional
	// +default="live"
	alias string,
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
) (*LambdaFunction, error) {
	f := &LambdaFunction{M: m, Name: name, Alias: alias, Timeout: timeout, PollInterval: pollInterval, BreakLock: breakLock}
	if name == "" {
		return nil, errors.New("function: --name is empty: name the Lambda function")
	}
	if _, err := f.durations(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *LambdaFunction) durations() (map[string]time.Duration, error) {
	return parseDurations(map[string]string{"--timeout": f.Timeout, "--poll-interval": f.PollInterval})
}

// Release new code behind the alias, at once or as a watched canary.
//
// Steps: check the function exists and its package type matches the code
// (--source for a zip function, --image for an image function), the alias
// and the alarms; take the function's lock; set --env and update its code,
// waiting until Lambda says Successful (a failed update stops here, and
// nothing is published); publish a version; move the alias to it. With
// --canary 10% the alias first routes that share to the new version for
// --bake while --alarm is watched, then takes all traffic. An alarm during
// the bake, or any failure once the alias moved, puts the alias back on the
// exact version it pointed to. Returns the release record as JSON.
//
// +cache="never"
func (f *LambdaFunction) Deploy(
	ctx context.Context,
	// Folder packaged as the function's zip (for a zip function), e.g. ./lambda/resize. The same files always make the same zip, so a release of unchanged code changes nothing.
	// +optional
	source *dagger.Directory,
	// Container image for an image function, best by digest: the reference publish returns.
	// +optional
	image string,
	// Environment variables set on the function before the version is published, NAME=value, comma-separated (a word without = continues the value before it: SIZES=320,640 is one variable); merged over the ones it has. Plain values: keep secrets in Secrets Manager.
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
	// Check the function, the alias, the code and the alarms; change nothing.
	// +optional
	dryRun bool,
) (string, error) {
	o, err := f.options()
	if err != nil {
		return "", err
	}
	out, text := outputs(dryRun)
	o.ImageURI, o.Alarms, o.Force, o.DryRun, o.Out = image, alarm, force, dryRun, out
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
		return "", errors.New("function deploy: give --source (a folder to zip, for a zip function) or --image (for an image function)")
	}
	if source != nil {
		if o.Zip, err = zipFolder(ctx, source); err != nil {
			return "", err
		}
	}
	s, err := f.M.aws(ctx)
	if err != nil {
		return "", err
	}
	o.Releases, o.Who = s.releases(), s.who
	rec, err := lambdadeploy.Deploy(ctx, lambdaClients(s), o)
	if dryRun && err == nil {
		return text.String(), nil
	}
	return recordJSON(rec, hints.Flags(err, hints.Function))
}

// Put the alias back on the version the last release replaced.
//
// The version comes from the release records, or from --to-version; the
// alias takes all traffic again (a canary's routing is cleared). Returns
// the release record as JSON.
//
// +cache="never"
func (f *LambdaFunction) Rollback(
	ctx context.Context,
	// Published version to put the alias on, e.g. 41, instead of the one the release records name.
	// +optional
	toVersion string,
	// Say where the alias is and would go back to, change nothing.
	// +optional
	dryRun bool,
) (string, error) {
	s, err := f.M.aws(ctx)
	if err != nil {
		return "", err
	}
	out, text := outputs(dryRun)
	rec, err := lambdadeploy.Rollback(ctx, lambdaClients(s), lambdadeploy.RollbackOptions{
		Function: f.Name, Alias: f.Alias, ToVersion: toVersion, Releases: s.releases(), Who: s.who, BreakLock: f.BreakLock,
		DryRun: dryRun, Out: out,
	})
	if dryRun && err == nil {
		return text.String(), nil
	}
	return recordJSON(rec, hints.Flags(err, hints.Function))
}

// Show where the alias points (and a canary's split), the last releases and the lock.
//
// +cache="session"
func (f *LambdaFunction) Status(ctx context.Context) (string, error) {
	s, err := f.M.aws(ctx)
	if err != nil {
		return "", err
	}
	st, err := envrelease.ReadStatus(ctx, envrelease.Clients{Lambda: lambdaClients(s)}, s.releases(),
		envrelease.Where{Functions: []envrelease.FunctionRef{{Name: f.Name, Alias: f.Alias}}})
	if err != nil {
		return "", err
	}
	return st.Text(), nil
}

// options are the release options every verb starts from.
func (f *LambdaFunction) options() (lambdadeploy.Options, error) {
	d, err := f.durations()
	if err != nil {
		return lambdadeploy.Options{}, err
	}
	return lambdadeploy.Options{Function: f.Name, Alias: f.Alias, Timeout: d["--timeout"], PollInterval: d["--poll-interval"],
		BreakLock: f.BreakLock, Out: progress()}, nil
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
