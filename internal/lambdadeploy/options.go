// Package lambdadeploy releases a Lambda function behind an alias: the new
// code (a container image or a zip) and environment, a published version,
// then the alias moved to it, all at once or first as a canary share for a
// bake time while CloudWatch alarms are watched. Any failure once the alias
// moved puts it back on the exact version it pointed to, and says so.
package lambdadeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// LambdaAPI is the part of *lambda.Client the engine uses.
type LambdaAPI interface {
	lambda.GetFunctionAPIClient
	lambda.GetFunctionConfigurationAPIClient
	UpdateFunctionCode(context.Context, *lambda.UpdateFunctionCodeInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(context.Context, *lambda.UpdateFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	PublishVersion(context.Context, *lambda.PublishVersionInput, ...func(*lambda.Options)) (*lambda.PublishVersionOutput, error)
	GetAlias(context.Context, *lambda.GetAliasInput, ...func(*lambda.Options)) (*lambda.GetAliasOutput, error)
	CreateAlias(context.Context, *lambda.CreateAliasInput, ...func(*lambda.Options)) (*lambda.CreateAliasOutput, error)
	UpdateAlias(context.Context, *lambda.UpdateAliasInput, ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error)
}

// AlarmsAPI is the part of *cloudwatch.Client the bake time uses.
type AlarmsAPI interface {
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// Clients are the AWS clients the engine needs.
type Clients struct {
	Lambda LambdaAPI
	// Alarms is needed only with Options.Alarms.
	Alarms AlarmsAPI
}

// MaxZip is the largest zip Lambda takes in one UpdateFunctionCode call.
const MaxZip = 50 << 20

// Options configure Deploy.
type Options struct {
	Function string
	// Alias is moved to the new version (default "live"); created when missing.
	Alias string
	// ImageURI (an image function) or Zip (a zip function): the new code.
	ImageURI string
	Zip      []byte
	// Environment variables set on the function (merged over the ones it
	// has) before the version is published; nil changes nothing.
	Environment map[string]string
	// Canary, between 0 and 1 (0.1: 10%), first routes that share of the
	// alias's traffic to the new version for Bake; 0 moves it all at once.
	Canary float64
	// Bake is how long Alarms are watched: at the canary share, or after
	// the whole move without a canary. Default 5m with a canary, else 0.
	Bake   time.Duration
	Alarms []string
	// Force releases code that the alias already runs; DryRun checks,
	// prints the plan and changes nothing.
	Force, DryRun bool
	// Timeout bounds each wait for Lambda (default 5m); PollInterval is the
	// time between polls (default 5s).
	Timeout, PollInterval time.Duration
	// Releases holds the lock and the release record; nil = neither.
	Releases       *release.Store
	Who            string
	LockStaleAfter time.Duration
	BreakLock      bool
	// PriorSteps (build, publish) measured by the caller go into the record.
	PriorSteps []release.Step
	Out        io.Writer
}

func (o *Options) defaults() {
	if o.Alias == "" {
		o.Alias = "live"
	}
	if o.Canary > 0 && o.Bake == 0 {
		o.Bake = 5 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
}

// validate checks what needs no AWS call.
func (o *Options) validate(c Clients) error {
	var errs []error
	switch {
	case o.Function == "":
		errs = append(errs, setting.Of("Function", errors.New("function is empty: name the Lambda function")))
	case strings.HasPrefix(o.Function, "arn:") || strings.Contains(o.Function, ":"):
		errs = append(errs, setting.Of("Function", fmt.Errorf("function %q: give the function's name (its lock and records are kept by name), not an ARN or a qualified name", o.Function)))
	}
	switch {
	case o.ImageURI == "" && len(o.Zip) == 0:
		errs = append(errs, errors.New("no code: give an image (an image function) or a folder to zip (a zip function)"))
	case o.ImageURI != "" && len(o.Zip) > 0:
		errs = append(errs, errors.New("give an image or a zip, not both"))
	case len(o.Zip) > MaxZip:
		errs = append(errs, fmt.Errorf("the zip is %.1f MB, more than the 50 MB Lambda takes in one upload: leave out what the function does not need at run time, or ship it as a container image", float64(len(o.Zip))/(1<<20)))
	}
	if size, ok := unzippedSize(o.Zip); ok && size > MaxUnzipped {
		errs = append(errs, tooBig(size))
	}
	if o.Canary < 0 || o.Canary >= 1 {
		errs = append(errs, fmt.Errorf("canary %g: give a share between 0 and 1 (0.1 is 10%%), or none to move all traffic at once", o.Canary))
	}
	if o.Bake < 0 {
		errs = append(errs, fmt.Errorf("bake %s is negative", o.Bake))
	}
	if len(o.Alarms) > 0 && o.Bake == 0 {
		errs = append(errs, errors.New("alarms are watched during the bake time: give a bake time (or a canary, which bakes 5m by default)"))
	}
	if len(o.Alarms) > 0 && c.Alarms == nil {
		errs = append(errs, errors.New("alarms are given but no CloudWatch client"))
	}
	if o.Releases != nil && o.Who == "" {
		errs = append(errs, errors.New("who is empty: set it to user@host or the CI job URL so the lock names its holder"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("release of function %s: nothing was changed: %w", o.Function, errors.Join(errs...))
	}
	return nil
}
