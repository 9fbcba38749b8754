package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// function releases the example function, then a new version as a canary
// whose alarm fires during the bake: the alias must end on the first one.
func (d *demo) function(ctx context.Context) error {
	fn, err := d.m.Lambda(sandbox.Function, sandbox.FunctionAlias, "5m", "1s", false)
	if err != nil {
		return err
	}
	out, err := fn.Deploy(ctx, d.lambda, "", []string{"SIZES=320,640,1280"}, "", "", nil, false, false)
	if err != nil {
		return err
	}
	var rec release.Record
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Lambda == nil {
		return fmt.Errorf("function deploy returned no release record: %v", err)
	}
	released := rec.Lambda.AfterVersion
	if live, err := d.aliasVersion(ctx); err != nil || live != released {
		return fmt.Errorf("alias %s is on version %s, not the released %s (%v)", sandbox.FunctionAlias, live, released, err)
	}
	say("OK: %s packaged from examples/lambda, version %s published, alias %s moved from version %s", sandbox.Function, released, sandbox.FunctionAlias, rec.Lambda.BeforeVersion)

	say("scripting the sandbox: alarm %s fires a few seconds into the next bake", sandbox.FunctionAlarm)
	if err := control.SetLambda(ctx, d.endpoint, awssim.LambdaRules{Alarms: []awssim.AlarmRule{{Name: sandbox.FunctionAlarm, FireAfter: 3, Reason: "demo: 5 errors in 1 minute"}}}); err != nil {
		return err
	}
	changed := d.lambda.WithNewFile("VERSION", "canary")
	_, err = fn.Deploy(ctx, changed, "", nil, "10%", "30s", []string{sandbox.FunctionAlarm}, false, false)
	if rerr := control.SetLambda(ctx, d.endpoint, awssim.LambdaRules{Alarms: []awssim.AlarmRule{{Name: sandbox.FunctionAlarm}}}); rerr != nil {
		return rerr
	}
	if err == nil {
		return errors.New("the canary succeeded; its alarm should have put the alias back")
	}
	say("the canary failed, as it should: %s", firstLine(err.Error()))
	if !strings.Contains(err.Error(), "rolled back: alias "+sandbox.FunctionAlias+" is back on version "+released) {
		return fmt.Errorf("the canary failed, but does not say the alias is back on version %s", released)
	}
	if live, err := d.aliasVersion(ctx); err != nil || live != released {
		return fmt.Errorf("after the canary, alias %s is on version %s, not %s (%v)", sandbox.FunctionAlias, live, released, err)
	}
	say("OK: the alarm fired during the bake: alias %s is back on exactly version %s, with all its traffic", sandbox.FunctionAlias, released)
	return nil
}

func (d *demo) aliasVersion(ctx context.Context) (string, error) {
	out, err := lambda.NewFromConfig(d.s.cfg).GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(sandbox.Function), Name: aws.String(sandbox.FunctionAlias)})
	if err != nil {
		return "", err
	}
	if out.RoutingConfig != nil && len(out.RoutingConfig.AdditionalVersionWeights) > 0 {
		return "", fmt.Errorf("alias %s still routes to two versions", sandbox.FunctionAlias)
	}
	return aws.ToString(out.FunctionVersion), nil
}
