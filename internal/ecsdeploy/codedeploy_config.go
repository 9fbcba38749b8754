package ecsdeploy

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
)

// A CodeDeploy deployment group's deployment config says how production
// traffic moves at AllowTraffic: all at once, or a canary share then the
// rest, or a share more every interval; its alarms stop the deployment
// (and, with DEPLOYMENT_STOP_ON_ALARM, roll it back) when one fires.

// predefinedStep reads CodeDeploy's predefined ECS canary and linear
// config names, e.g. CodeDeployDefault.ECSCanary10Percent5Minutes.
var predefinedStep = regexp.MustCompile(`^CodeDeployDefault\.ECS(Canary|Linear)(\d+)Percent(Every)?(\d+)Minutes$`)

// cdStrategy is how a release record names a CodeDeploy group's strategy:
// "codedeploy blue/green" for all at once, "codedeploy canary 10% 5m" or
// "codedeploy linear 10% every 1m" for the predefined step configs, and
// the config's name for any other.
func cdStrategy(config string) string {
	if m := predefinedStep.FindStringSubmatch(config); m != nil {
		if m[1] == "Canary" {
			return fmt.Sprintf("codedeploy canary %s%% %sm", m[2], m[4])
		}
		return fmt.Sprintf("codedeploy linear %s%% every %sm", m[2], m[4])
	}
	if config == "" || config == "CodeDeployDefault.ECSAllAtOnce" {
		return "codedeploy blue/green"
	}
	return "codedeploy blue/green, config " + config
}

// describeCodeDeployGroup sets the record's strategy from the group's
// deployment config and says, before anything moves, how traffic will
// move and which alarms CodeDeploy watches. A group it cannot read is
// recorded as plain blue/green.
func (d *deploy) describeCodeDeployGroup(ctx context.Context, g CodeDeployGroup) {
	d.rec.Backend.Strategy = cdStrategy("")
	out, err := d.c.CodeDeploy.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: aws.String(g.Application), DeploymentGroupName: aws.String(g.DeploymentGroup)})
	if err != nil || out.DeploymentGroupInfo == nil {
		return
	}
	info := out.DeploymentGroupInfo
	config := aws.ToString(info.DeploymentConfigName)
	d.rec.Backend.Strategy = cdStrategy(config)
	line := fmt.Sprintf("    deployment group %s/%s: %s (%s)", g.Application, g.DeploymentGroup, d.rec.Backend.Strategy, config)
	if a := info.AlarmConfiguration; a != nil && a.Enabled && len(a.Alarms) > 0 {
		var names []string
		for _, al := range a.Alarms {
			names = append(names, aws.ToString(al.Name))
		}
		line += ", CodeDeploy watching " + strings.Join(names, ", ")
		if !stopsOnAlarmWithRollback(info.AutoRollbackConfiguration) {
			line += " (without rollback on alarm: an alarm would stop the deployment and leave traffic where it is)"
		}
	}
	fmt.Fprintln(d.o.Out, line)
}

func stopsOnAlarmWithRollback(c *cdtypes.AutoRollbackConfiguration) bool {
	if c == nil || !c.Enabled {
		return false
	}
	for _, ev := range c.Events {
		if ev == cdtypes.AutoRollbackEventDeploymentStopOnAlarm {
			return true
		}
	}
	return false
}

var alarmNames = regexp.MustCompile(`<([^>]+)>`)

// cdErrorReason is why CodeDeploy ended a deployment: its message, and
// for a stop on alarm the alarms it names, said plainly.
func cdErrorReason(e *cdtypes.ErrorInformation) string {
	msg := aws.ToString(e.Message)
	if e.Code != cdtypes.ErrorCodeAlarmActive {
		return msg
	}
	var names []string
	for _, m := range alarmNames.FindAllStringSubmatch(msg, -1) {
		names = append(names, m[1])
	}
	if len(names) == 0 {
		return "CodeDeploy stopped it on an alarm (ALARM_ACTIVE): " + msg
	}
	return fmt.Sprintf("alarm %s went into ALARM while production traffic moved, and CodeDeploy stopped the deployment (ALARM_ACTIVE)", strings.Join(names, ", "))
}
