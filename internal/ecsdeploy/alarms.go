package ecsdeploy

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/futuraplataforma/esteira/internal/setting"
)

// AlarmsAPI is the part of CloudWatch that checks the alarms a strategy
// names exist.
type AlarmsAPI interface {
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// checkAlarms refuses, before any change, alarms that do not exist: ECS
// would watch a name that never fires, and the bake would protect
// nothing. A nil api leaves them unchecked.
func checkAlarms(ctx context.Context, api AlarmsAPI, names []string, out io.Writer) (string, error) {
	if len(names) == 0 || api == nil {
		return "", nil
	}
	found := map[string]string{}
	p := cloudwatch.NewDescribeAlarmsPaginator(api, &cloudwatch.DescribeAlarmsInput{AlarmNames: names,
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("check the alarms the strategy watches (%s): %w; nothing was changed", strings.Join(names, ", "), err)
		}
		for _, a := range out.MetricAlarms {
			found[aws.ToString(a.AlarmName)] = string(a.StateValue)
		}
		for _, a := range out.CompositeAlarms {
			found[aws.ToString(a.AlarmName)] = string(a.StateValue)
		}
	}
	var missing, firing []string
	for _, n := range names {
		switch st, ok := found[n]; {
		case !ok:
			missing = append(missing, n)
		case st == string(cwtypes.StateValueAlarm):
			firing = append(firing, n)
		}
	}
	if len(missing) > 0 {
		return "", setting.Of("Strategy", fmt.Errorf("alarm %s does not exist in CloudWatch: ECS would watch a name that never fires; create it or fix the name; nothing was changed",
			strings.Join(missing, ", ")))
	}
	if len(firing) > 0 {
		fmt.Fprintf(out, "    warning: alarm %s is in ALARM already: ECS rolls the deployment back once it watches it, unless it returns to OK first\n", strings.Join(firing, ", "))
	}
	return fmt.Sprintf("; %d alarms found in CloudWatch", len(names)), nil
}
