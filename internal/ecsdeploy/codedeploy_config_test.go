package ecsdeploy

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/stretchr/testify/assert"
)

func TestCodeDeployStrategyNamesTheConfig(t *testing.T) {
	for config, want := range map[string]string{
		"":                               "codedeploy blue/green",
		"CodeDeployDefault.ECSAllAtOnce": "codedeploy blue/green",
		"CodeDeployDefault.ECSCanary10Percent15Minutes":     "codedeploy canary 10% 15m",
		"CodeDeployDefault.ECSLinear10PercentEvery3Minutes": "codedeploy linear 10% every 3m",
		"my-canary-config": "codedeploy blue/green, config my-canary-config",
	} {
		assert.Equal(t, want, cdStrategy(config), config)
	}
}

func TestCodeDeployErrorReasonNamesTheAlarms(t *testing.T) {
	msg := "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <a-5xx> <a-latency>"
	assert.Equal(t, "alarm a-5xx, a-latency went into ALARM while production traffic moved, and CodeDeploy stopped the deployment (ALARM_ACTIVE)",
		cdErrorReason(&cdtypes.ErrorInformation{Code: cdtypes.ErrorCodeAlarmActive, Message: aws.String(msg)}))
	assert.Equal(t, "Lifecycle event AllowTraffic failed.",
		cdErrorReason(&cdtypes.ErrorInformation{Code: cdtypes.ErrorCodeEcsUpdateError, Message: aws.String("Lifecycle event AllowTraffic failed.")}))
}
