package lambdadeploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/futuraplataforma/esteira/internal/redact"
	"github.com/futuraplataforma/esteira/internal/release"
)

// dryRunOK ends every dry run's output.
const dryRunOK = "==> DRY RUN OK: every check passed; nothing was changed"

// Plan is what a release of a function would do.
type Plan struct {
	Function    string `json:"function"`
	Alias       string `json:"alias"`
	PackageType string `json:"packageType"` // Zip or Image: the code given matches it (checked)
	// LiveVersion is the alias's version; empty when the alias would be created.
	LiveVersion string `json:"liveVersion,omitempty"`
	// LiveCode and NewCode are an image URI or "sha256 <base64>" of a zip.
	LiveCode string `json:"liveCode"`
	NewCode  string `json:"newCode"`
	// Environment lists the variables the new version changes; values
	// that look like credentials are shown redacted.
	Environment []EnvChange   `json:"environment,omitempty"`
	Canary      float64       `json:"canary,omitempty"`
	Bake        time.Duration `json:"bake,omitempty"`
	Alarms      []string      `json:"alarms,omitempty"`
	// Lock is the function's release lock; empty without a release store.
	Lock string `json:"lock,omitempty"`
}

// EnvChange is one environment variable; an empty side is unset.
type EnvChange struct {
	Name   string `json:"name"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan: release function %s (%s) through alias %s\n", p.Function, p.PackageType, p.Alias)
	if p.Lock != "" {
		fmt.Fprintf(&b, "  lock %s\n", p.Lock)
	}
	code := "unchanged (forced release)"
	if p.LiveCode != p.NewCode {
		code = p.LiveCode + " -> " + p.NewCode
	}
	fmt.Fprintf(&b, "  code: %s\n", code)
	for _, e := range p.Environment {
		fmt.Fprintf(&b, "  environment %s: %s -> %s\n", e.Name, unsetOr(e.Before), unsetOr(e.After))
	}
	b.WriteString("  publish a new version\n")
	watch := ""
	if len(p.Alarms) > 0 {
		watch = " watching alarms " + strings.Join(p.Alarms, ", ")
	}
	switch {
	case p.LiveVersion == "":
		fmt.Fprintf(&b, "  create alias %s on the new version\n", p.Alias)
	case p.Canary > 0:
		fmt.Fprintf(&b, "  alias %s: route %s%% to the new version beside version %s for %s%s, then move all of it; on failure back to version %s\n",
			p.Alias, pct(p.Canary), p.LiveVersion, p.Bake, watch, p.LiveVersion)
	default:
		fmt.Fprintf(&b, "  alias %s: move all traffic from version %s to the new version; on failure back to version %s\n", p.Alias, p.LiveVersion, p.LiveVersion)
	}
	if p.Canary == 0 && p.Bake > 0 {
		fmt.Fprintf(&b, "  bake %s%s\n", p.Bake, watch)
	}
	return b.String()
}

func unsetOr(v string) string {
	if v == "" {
		return "(unset)"
	}
	return v
}

// plan is the deploy's plan once its check step has run.
func (d *deploy) plan(ctx context.Context) (*Plan, error) {
	p := &Plan{Function: d.o.Function, Alias: d.o.Alias, PackageType: d.pkgType, LiveVersion: d.before, LiveCode: d.liveCode,
		NewCode: d.o.ImageURI, Canary: d.o.Canary, Bake: d.o.Bake, Alarms: d.o.Alarms}
	if p.NewCode == "" {
		p.NewCode = "sha256 " + d.rec.Lambda.CodeSha256
	}
	before, after := nonNil(d.releasedEnv), merged(d.releasedEnv, d.o.Environment)
	names := slices.Sorted(maps.Keys(merged(before, after)))
	for _, n := range names {
		if before[n] != after[n] {
			p.Environment = append(p.Environment, EnvChange{Name: n, Before: shownEnv(n, before[n]), After: shownEnv(n, after[n])})
		}
	}
	var err error
	p.Lock, err = lockState(ctx, d.o)
	return p, err
}

// shownEnv is a variable's value as shown: redacted when it looks like a credential.
func shownEnv(name, v string) string {
	if v == "" {
		return ""
	}
	return strings.TrimPrefix(redact.Command([]string{name + "=" + v})[0], name+"=")
}

// lockState says whether the function's lock is free, without taking it.
func lockState(ctx context.Context, o Options) (string, error) {
	ls, err := release.ReadLockState(ctx, o.Releases, release.KindLambda+"/"+o.Function, o.LockStaleAfter, o.BreakLock)
	if ls == nil {
		return "", err
	}
	return ls.Name + ": " + ls.String(), nil
}

// dryRun prints the plan of a deploy whose check step has run.
func (d *deploy) dryRun(ctx context.Context) (string, error) {
	p, err := d.plan(ctx)
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	fmt.Fprint(d.o.Out, p.String()+dryRunOK+"\n")
	return release.OutcomeDryRun, nil
}

// dryRunRollback prints where a rollback would move the alias.
func dryRunRollback(ctx context.Context, c Clients, o Options, rec *release.Record) (string, error) {
	lock, err := lockState(ctx, o)
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; nothing was changed", err)
	}
	from := "version " + rec.Lambda.BeforeVersion
	if st, err := State(ctx, c.Lambda, o.Function, o.Alias); err == nil {
		from = st.Text() // with a canary's split
	}
	fmt.Fprintf(o.Out, "plan: move alias %s of %s from %s to version %s, with all its traffic\n", o.Alias, o.Function, from, rec.Lambda.AfterVersion)
	if lock != "" {
		fmt.Fprintf(o.Out, "  lock %s\n", lock)
	}
	fmt.Fprintln(o.Out, dryRunOK)
	return release.OutcomeDryRun, nil
}

// codeOf is what a function's (or version's) code is, for people.
func codeOf(fn *lambda.GetFunctionOutput) string {
	if fn.Code != nil && aws.ToString(fn.Code.ImageUri) != "" {
		return aws.ToString(fn.Code.ImageUri)
	}
	return "sha256 " + aws.ToString(fn.Configuration.CodeSha256)
}
