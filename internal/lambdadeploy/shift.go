package lambdadeploy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/futuraplataforma/esteira/internal/release"
)

// shift moves the alias to version: created if it was missing; else with
// a canary share first, a bake time watching the alarms, then all of it.
// A failure from the first move on puts the alias back on d.before.
func (d *deploy) shift(ctx context.Context, version string) (string, error) {
	if d.before == "" {
		err := step(d.o.Out, d.rec, "alias", func() (string, error) {
			if err := d.g.Check(ctx, "creating the alias"); err != nil {
				return "", err
			}
			_, err := d.c.Lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(d.o.Function), Name: aws.String(d.o.Alias),
				FunctionVersion: aws.String(version), Description: aws.String("released by esteira")})
			return "created on version " + version, err
		})
		if err != nil {
			return release.OutcomeFailed, fmt.Errorf("create alias %s of %s: %w; no traffic goes to version %s", d.o.Alias, d.o.Function, err, version)
		}
		return d.bake(ctx, version)
	}
	if d.o.Canary > 0 {
		err := step(d.o.Out, d.rec, "canary", func() (string, error) {
			return fmt.Sprintf("%s%% of %s to version %s", pct(d.o.Canary), d.o.Alias, version),
				d.route(ctx, d.before, map[string]float64{version: d.o.Canary})
		})
		if err != nil {
			return d.undo(ctx, version, fmt.Errorf("route %s%% of %s to version %s: %w", pct(d.o.Canary), d.o.Alias, version, err))
		}
		if outcome, err := d.bake(ctx, version); err != nil {
			return outcome, err
		}
	}
	err := step(d.o.Out, d.rec, "alias", func() (string, error) {
		return fmt.Sprintf("%s on version %s (was %s)", d.o.Alias, version, d.before), d.route(ctx, version, map[string]float64{})
	})
	if err != nil {
		return d.undo(ctx, version, fmt.Errorf("move %s to version %s: %w", d.o.Alias, version, err))
	}
	if d.o.Canary > 0 {
		return release.OutcomeSucceeded, nil
	}
	return d.bake(ctx, version)
}

func (d *deploy) route(ctx context.Context, primary string, extra map[string]float64) error {
	if err := d.g.Check(ctx, "moving the alias"); err != nil {
		return err
	}
	_, err := d.c.Lambda.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(d.o.Function), Name: aws.String(d.o.Alias),
		FunctionVersion: aws.String(primary), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: extra}})
	return err
}

// bake watches the alarms for o.Bake; an alarm in ALARM fails the release.
func (d *deploy) bake(ctx context.Context, version string) (string, error) {
	if d.o.Bake == 0 {
		return release.OutcomeSucceeded, nil
	}
	err := step(d.o.Out, d.rec, "bake", func() (string, error) {
		deadline := time.Now().Add(d.o.Bake)
		for {
			fired, err := d.firing(ctx)
			if err != nil {
				return "", err
			}
			if fired != "" {
				return "", fmt.Errorf("alarm %s during the bake", fired)
			}
			if !time.Now().Before(deadline) {
				return fmt.Sprintf("%s, no alarm fired", d.o.Bake), nil
			}
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(min(d.o.PollInterval, time.Until(deadline))):
			}
		}
	})
	if err != nil {
		return d.undo(ctx, version, err)
	}
	return release.OutcomeSucceeded, nil
}

// firing returns "name (reason)" of the first alarm in ALARM, or "".
func (d *deploy) firing(ctx context.Context) (string, error) {
	if len(d.o.Alarms) == 0 {
		return "", nil
	}
	states, err := d.alarmStates(ctx)
	if err != nil {
		return "", err
	}
	for _, name := range d.o.Alarms {
		if st, ok := states[name]; ok && st[0] == string(cwtypes.StateValueAlarm) {
			return fmt.Sprintf("%s fired (%s)", name, st[1]), nil
		}
	}
	return "", nil
}

// alarmStates reads the alarms, metric and composite: name → state, reason.
func (d *deploy) alarmStates(ctx context.Context) (map[string][2]string, error) {
	out, err := d.c.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: d.o.Alarms,
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}})
	if err != nil {
		return nil, fmt.Errorf("describe alarms %s: %w", strings.Join(d.o.Alarms, ", "), err)
	}
	states := map[string][2]string{}
	for _, a := range out.MetricAlarms {
		states[aws.ToString(a.AlarmName)] = [2]string{string(a.StateValue), aws.ToString(a.StateReason)}
	}
	for _, a := range out.CompositeAlarms {
		states[aws.ToString(a.AlarmName)] = [2]string{string(a.StateValue), aws.ToString(a.StateReason)}
	}
	return states, nil
}

// checkAlarms makes sure, before anything changes, that every alarm exists
// (a misspelt alarm would watch nothing) and none is already in ALARM (the
// new version would be blamed for it).
func (d *deploy) checkAlarms(ctx context.Context) error {
	states, err := d.alarmStates(ctx)
	if err != nil {
		return err
	}
	found := map[string]bool{}
	for name, st := range states {
		found[name] = true
		if st[0] == string(cwtypes.StateValueAlarm) {
			return fmt.Errorf("alarm %s is already in ALARM (%s): a bake would blame the new version for it; release once it is OK", name, st[1])
		}
	}
	var missing []string
	for _, n := range d.o.Alarms {
		if !found[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no CloudWatch metric alarm is named %s in this account and region: a bake would watch nothing (aws cloudwatch describe-alarms lists them)", strings.Join(missing, ", "))
	}
	return nil
}

// undo puts the alias back on d.before with no extra routing, or deletes
// nothing when it was just created (it then keeps pointing at version:
// there is no earlier one). It returns the outcome and the whole story.
func (d *deploy) undo(ctx context.Context, version string, cause error) (string, error) {
	if d.before == "" {
		return release.OutcomeFailed, fmt.Errorf("%w; alias %s was created by this release and stays on version %s (there is no earlier version to go back to)", cause, d.o.Alias, version)
	}
	err := step(d.o.Out, d.rec, "rollback", func() (string, error) {
		return d.o.Alias + " back on version " + d.before, d.route(context.WithoutCancel(ctx), d.before, map[string]float64{})
	})
	if err != nil {
		return release.OutcomeFailed, fmt.Errorf("%w; putting alias %s back on version %s FAILED (%v): run aws lambda update-alias --function-name %s --name %s --function-version %s --routing-config AdditionalVersionWeights={}",
			cause, d.o.Alias, d.before, err, d.o.Function, d.o.Alias, d.before)
	}
	return release.OutcomeRolledBack, fmt.Errorf("%w; rolled back: alias %s is back on version %s with all its traffic (version %s stays published for inspection)", cause, d.o.Alias, d.before, version)
}

func pct(share float64) string { return fmt.Sprintf("%.4g", share*100) }
