package lambdadeploy

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

type deploy struct {
	// g holds the release's lock and writes its record; g.Check before
	// each change to the function or its alias.
	g   *release.Guard
	c   Clients
	o   Options
	rec *release.Record
	// before is the version the alias pointed at (empty: no alias yet).
	before string
	env    map[string]string // $LATEST's environment
	// releasedEnv is the environment of the alias's version ($LATEST's
	// when there is no alias yet): what the new version starts from.
	releasedEnv map[string]string
	// pkgType and liveCode (image URI or "sha256 <base64>") are the
	// function's and the alias's version's (or $LATEST's), for the plan.
	pkgType, liveCode string
}

// Deploy releases the new code to the function's alias and returns the
// release record (also written to o.Releases) with the error, if any.
func Deploy(ctx context.Context, c Clients, o Options) (*release.Record, error) {
	o.defaults()
	if err := o.validate(c); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	d := &deploy{c: c, o: o, rec: &release.Record{ID: release.NewID(now), Kind: release.KindLambda, Target: o.Function, StartedAt: now,
		Steps:  append([]release.Step(nil), o.PriorSteps...),
		Lambda: &release.LambdaRecord{Function: o.Function, Alias: o.Alias, Image: o.ImageURI, Canary: o.Canary, Alarms: o.Alarms}}}
	if o.Bake > 0 {
		d.rec.Lambda.Bake = o.Bake.String()
	}
	if len(o.Zip) > 0 {
		sum := sha256.Sum256(o.Zip)
		d.rec.Lambda.CodeSha256 = base64.StdEncoding.EncodeToString(sum[:])
	}
	d.g = newGuard(o.Releases, d.rec, o.Out)
	outcome, err := d.run(ctx)
	return d.g.Finish(ctx, outcome, err)
}

func (d *deploy) run(ctx context.Context) (string, error) {
	same := false
	if err := step(d.o.Out, d.rec, "check", func() (string, error) {
		return d.preflight(ctx, &same)
	}); err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	if same && !d.o.Force {
		fmt.Fprintf(d.o.Out, "==> %s:%s already runs this code (version %s); nothing to do (force redeploys)\n", d.o.Function, d.o.Alias, d.before)
		d.rec.Lambda.AfterVersion = d.before
		return release.OutcomeNoChange, nil
	}
	if d.o.DryRun {
		return d.dryRun(ctx)
	}
	if err := lock(ctx, d.g, d.o); err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	if err := d.recheck(ctx); err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	untouched := fmt.Sprintf("the alias %s was not changed (still on %s)", d.o.Alias, orNone(d.before))
	if env := merged(d.releasedEnv, d.o.Environment); !maps.Equal(env, nonNil(d.env)) {
		if err := step(d.o.Out, d.rec, "configure", func() (string, error) { return d.configure(ctx, env) }); err != nil {
			return release.OutcomeFailed, fmt.Errorf("%w; %s", err, untouched)
		}
	}
	if err := step(d.o.Out, d.rec, "code", func() (string, error) { return d.updateCode(ctx) }); err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was published, %s", err, untouched)
	}
	var version string
	if err := step(d.o.Out, d.rec, "publish", func() (string, error) {
		var err error
		version, err = d.publish(ctx)
		return "version " + version, err
	}); err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; %s", err, untouched)
	}
	d.rec.Lambda.AfterVersion = version
	if version == d.before {
		fmt.Fprintf(d.o.Out, "==> version %s, which %s runs, already has this code and environment: nothing to move\n", version, d.o.Alias)
		return release.OutcomeNoChange, nil
	}
	return d.shift(ctx, version)
}

// recheck reads the alias again under the lock: a release that finished
// between the preflight and the lock moved it, and this one would undo to
// a version that no longer runs.
func (d *deploy) recheck(ctx context.Context) error {
	a, err := d.c.Lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(d.o.Function), Name: aws.String(d.o.Alias)})
	now := ""
	switch {
	case err == nil:
		now = aws.ToString(a.FunctionVersion)
		if a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0 {
			return fmt.Errorf("alias %s of %s started routing to two versions while this release was starting: run it again once that release is done", d.o.Alias, d.o.Function)
		}
	case code(err) != "ResourceNotFoundException":
		return fmt.Errorf("get alias %s of %s: %w", d.o.Alias, d.o.Function, err)
	}
	if now != d.before {
		return fmt.Errorf("alias %s of %s moved while this release was starting (it was on %s, now %s): run the release again", d.o.Alias, d.o.Function, orNone(d.before), orNone(now))
	}
	return nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// preflight checks the function, its package type, the alias and the
// alarms before anything changes; same reports that the alias already
// runs this code.
func (d *deploy) preflight(ctx context.Context, same *bool) (string, error) {
	if d.o.ImageURI != "" && !strings.Contains(d.o.ImageURI, "@sha256:") {
		fmt.Fprintf(d.o.Out, "    warning: image %s has no digest: Lambda resolves the tag once, and a tag moved since the alias's version is not seen as new code; pass repo@sha256:<digest>\n", d.o.ImageURI)
	}
	fn, err := d.c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(d.o.Function)})
	if err != nil {
		if code(err) == "ResourceNotFoundException" {
			return "", fmt.Errorf("function %s does not exist in this account and region: create it first (esteira releases functions, it does not create them)", d.o.Function)
		}
		return "", fmt.Errorf("get function %s: %w", d.o.Function, err)
	}
	switch pt := fn.Configuration.PackageType; {
	case pt == types.PackageTypeImage && d.o.ImageURI == "":
		return "", setting.Of("ImageURI", fmt.Errorf("function %s runs a container image: give an image, not a folder to zip", d.o.Function))
	case pt != types.PackageTypeImage && d.o.ImageURI != "":
		return "", setting.Of("Zip", fmt.Errorf("function %s runs a zip package: give a folder to zip, not an image", d.o.Function))
	}
	if fn.Configuration.Environment != nil {
		d.env = fn.Configuration.Environment.Variables
	}
	d.releasedEnv = d.env
	d.pkgType, d.liveCode = string(fn.Configuration.PackageType), codeOf(fn)
	detail := fmt.Sprintf("%s (%s)", d.o.Function, fn.Configuration.PackageType)
	a, err := d.c.Lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(d.o.Function), Name: aws.String(d.o.Alias)})
	switch {
	case code(err) == "ResourceNotFoundException":
		if d.o.Canary > 0 {
			return "", setting.Of("Canary", fmt.Errorf("alias %s of %s does not exist, so there is no version to run a canary beside: release it once without a canary (that creates the alias)", d.o.Alias, d.o.Function))
		}
		detail += "; alias " + d.o.Alias + " will be created"
	case err != nil:
		return "", fmt.Errorf("get alias %s of %s: %w", d.o.Alias, d.o.Function, err)
	default:
		d.before = aws.ToString(a.FunctionVersion)
		d.rec.Lambda.BeforeVersion = d.before
		if a.RoutingConfig != nil && len(a.RoutingConfig.AdditionalVersionWeights) > 0 {
			return "", fmt.Errorf("alias %s of %s already routes traffic to two versions (%s): a canary is in progress or was left half-way; finish or undo it (aws lambda update-alias --routing-config AdditionalVersionWeights={}) first",
				d.o.Alias, d.o.Function, weights(d.before, a.RoutingConfig.AdditionalVersionWeights))
		}
		detail += "; alias " + d.o.Alias + " on version " + d.before
		if *same, err = d.runsAlready(ctx); err != nil {
			return "", err
		}
	}
	if len(d.o.Alarms) > 0 {
		if err := d.checkAlarms(ctx); err != nil {
			return "", err
		}
		detail += "; alarms " + strings.Join(d.o.Alarms, ", ")
	}
	return detail, nil
}

// runsAlready tells whether the alias's version has this code and the
// environment asked for.
func (d *deploy) runsAlready(ctx context.Context) (bool, error) {
	v, err := d.c.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(d.o.Function), Qualifier: aws.String(d.before)})
	if err != nil {
		return false, fmt.Errorf("get version %s of %s: %w", d.before, d.o.Function, err)
	}
	d.releasedEnv, d.liveCode = nil, codeOf(v)
	if v.Configuration.Environment != nil {
		d.releasedEnv = v.Configuration.Environment.Variables
	}
	if !maps.Equal(nonNil(d.releasedEnv), merged(d.releasedEnv, d.o.Environment)) {
		return false, nil
	}
	if d.o.ImageURI != "" {
		return v.Code != nil && aws.ToString(v.Code.ImageUri) == d.o.ImageURI, nil
	}
	return aws.ToString(v.Configuration.CodeSha256) == d.rec.Lambda.CodeSha256, nil
}

func merged(base, over map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, over)
	return out
}

// configure sets the environment the new version gets: the released
// version's (not what a failed release may have left on $LATEST) with the
// release's variables over it.
func (d *deploy) configure(ctx context.Context, env map[string]string) (string, error) {
	if err := d.g.Check(ctx, "updating the configuration"); err != nil {
		return "", err
	}
	if _, err := d.c.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(d.o.Function), Environment: &types.Environment{Variables: env}}); err != nil {
		return "", fmt.Errorf("update the configuration of %s: %w", d.o.Function, err)
	}
	if err := d.waitUpdated(ctx, "configuration"); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d environment variable(s)", len(env)), nil
}

func (d *deploy) updateCode(ctx context.Context) (string, error) {
	if err := d.g.Check(ctx, "updating the code"); err != nil {
		return "", err
	}
	in := &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(d.o.Function)}
	if d.o.ImageURI != "" {
		in.ImageUri = aws.String(d.o.ImageURI)
	} else {
		in.ZipFile = d.o.Zip
	}
	out, err := d.c.Lambda.UpdateFunctionCode(ctx, in)
	if err != nil {
		return "", fmt.Errorf("update the code of %s: %w", d.o.Function, err)
	}
	d.rec.Lambda.CodeSha256 = aws.ToString(out.CodeSha256)
	if err := d.waitUpdated(ctx, "code"); err != nil {
		return "", err
	}
	return "LastUpdateStatus Successful", nil
}

// waitUpdated waits until LastUpdateStatus is Successful; Failed is an
// error with Lambda's reason.
func (d *deploy) waitUpdated(ctx context.Context, what string) error {
	w := lambda.NewFunctionUpdatedV2Waiter(d.c.Lambda, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = d.o.PollInterval, max(d.o.PollInterval, 4*d.o.PollInterval)
	})
	werr := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(d.o.Function)}, d.o.Timeout)
	if werr == nil {
		return nil
	}
	cfg, err := d.c.Lambda.GetFunctionConfiguration(context.WithoutCancel(ctx), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(d.o.Function)})
	if err != nil {
		return fmt.Errorf("the %s update of %s did not finish: %w", what, d.o.Function, werr)
	}
	if cfg.LastUpdateStatus == types.LastUpdateStatusFailed {
		return fmt.Errorf("the %s update of %s failed: %s (%s)", what, d.o.Function, aws.ToString(cfg.LastUpdateStatusReason), cfg.LastUpdateStatusReasonCode)
	}
	return fmt.Errorf("the %s update of %s is still %s after %s", what, d.o.Function, cfg.LastUpdateStatus, d.o.Timeout)
}

func (d *deploy) publish(ctx context.Context) (string, error) {
	if err := d.g.Check(ctx, "publishing a version"); err != nil {
		return "", err
	}
	out, err := d.c.Lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(d.o.Function),
		CodeSha256: aws.String(d.rec.Lambda.CodeSha256), Description: aws.String("esteira release " + d.rec.ID)})
	if err != nil {
		return "", fmt.Errorf("publish a version of %s: %w", d.o.Function, err)
	}
	version := aws.ToString(out.Version)
	w := lambda.NewPublishedVersionActiveWaiter(d.c.Lambda, func(o *lambda.PublishedVersionActiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = d.o.PollInterval, max(d.o.PollInterval, 4*d.o.PollInterval)
	})
	if err := w.Wait(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(d.o.Function), Qualifier: aws.String(version)}, d.o.Timeout); err != nil {
		return version, fmt.Errorf("version %s of %s did not become Active: %w", version, d.o.Function, err)
	}
	return version, nil
}

func orNone(v string) string {
	if v == "" {
		return "no version: it does not exist yet"
	}
	return "version " + v
}

func weights(primary string, extra map[string]float64) string {
	var parts []string
	total := 1.0
	for v, w := range extra {
		parts = append(parts, pct(w)+"% to version "+v)
		total -= w
	}
	return pct(total) + "% to version " + primary + ", " + strings.Join(parts, ", ")
}

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Preflight checks, without changing anything, what Deploy checks first:
// the options, the function and its package type, the alias and the
// alarms. A release of several parts runs it before any part changes.
func Preflight(ctx context.Context, c Clients, o Options) error {
	o.defaults()
	if err := o.validate(c); err != nil {
		return err
	}
	rec := &release.Record{Lambda: &release.LambdaRecord{}}
	d := &deploy{g: newGuard(nil, rec, o.Out), c: c, o: o, rec: rec}
	var same bool
	if _, err := d.preflight(ctx, &same); err != nil {
		return fmt.Errorf("release of function %s: %w; nothing was changed", o.Function, err)
	}
	return nil
}
