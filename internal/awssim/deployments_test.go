package awssim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A rule scripts the next rollback of a blue/green service to fail; a
// PUT that no longer names it clears it before it is used.
func TestScriptDeployments_FailsTheNextRollbackOfABlueGreenService(t *testing.T) {
	e, v1, v2 := newService(t, blueGreen(awssim.ServiceSpec{}))
	require.NoError(t, e.sim.ScriptDeployments(awssim.DeploymentRules{ECS: []awssim.ECSDeploymentRule{{Service: "web", FailRollback: true}}}))
	arn := e.deploy(t, v2)
	e.pollSD(t, arn, 20, atStage("BAKE_TIME"))
	_, err := e.ecs.StopServiceDeployment(e.ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: &arn, StopType: types.StopServiceDeploymentStopTypeRollback})
	require.NoError(t, err)
	e.pollSD(t, arn, 10, hasStatus(types.ServiceDeploymentStatusRollbackFailed))

	require.NoError(t, e.sim.ScriptDeployments(awssim.DeploymentRules{ECS: []awssim.ECSDeploymentRule{{Service: "web", FailRollback: true}}}))
	require.NoError(t, e.sim.ScriptDeployments(awssim.DeploymentRules{}))
	assert.Empty(t, e.sim.Deployments().ECS, "the second PUT replaced the first, unused")
	arn = e.deploy(t, v1)
	e.describeSD(t, arn)
	_, err = e.ecs.StopServiceDeployment(e.ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: &arn})
	require.NoError(t, err)
	e.pollSD(t, arn, 10, hasStatus(types.ServiceDeploymentStatusRollbackSuccessful))
}

// failAt and failRollback script the next deployment of a group and its
// rollback; a later PUT without them lets the next deployment succeed.
func TestScriptDeployments_FailsTheNextCodeDeployDeploymentAndItsRollback(t *testing.T) {
	e := newCodeDeployEnv(t, false)
	require.NoError(t, e.sim.ScriptDeployments(awssim.DeploymentRules{CodeDeploy: []awssim.CodeDeployRule{
		{DeploymentGroup: "web-dg", FailAt: "AfterAllowTestTraffic", FailRollback: true}}}))
	id := e.deployV2(t)
	d, _ := e.poll(t, id, 40, cdStatus(cdtypes.DeploymentStatusFailed))
	assert.Equal(t, cdtypes.ErrorCodeHookExecutionFailure, d.ErrorInformation.Code)
	e.rolledBack(t, id, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusFailed)

	require.NoError(t, e.sim.ScriptDeployments(awssim.DeploymentRules{CodeDeploy: []awssim.CodeDeployRule{{DeploymentGroup: "web-dg", FailAt: "Install"}}}))
	require.NoError(t, e.sim.ScriptDeployments(awssim.DeploymentRules{}))
	assert.Empty(t, e.sim.Deployments().CodeDeploy, "the second PUT replaced the first, unused")
	e.poll(t, e.deployV2(t), 60, cdStatus(cdtypes.DeploymentStatusSucceeded))
}

// Alarms named are set (created OK by the simulator's start), the others
// keep their state.
func TestScriptDeployments_SetsTheAlarmsNamed(t *testing.T) {
	sim := scriptable(t)
	require.NoError(t, sim.ScriptDeployments(awssim.DeploymentRules{Alarms: []awssim.AlarmRule{{Name: "web-5xx", State: "ALARM", Reason: "drill"}}}))
	assert.Equal(t, map[string]string{"web-5xx": "ALARM", "resize-errors": "OK"}, alarmStates(t, sim, "web-5xx", "resize-errors"))
	require.NoError(t, sim.ScriptDeployments(awssim.DeploymentRules{Alarms: []awssim.AlarmRule{{Name: "web-5xx"}}}))
	assert.Equal(t, map[string]string{"web-5xx": "OK", "resize-errors": "OK"}, alarmStates(t, sim, "web-5xx", "resize-errors"))
}

// Every rule is checked before anything changes: a refused PUT leaves the
// failures scripted before in force, and its error names what is wrong.
func TestScriptDeployments_RefusesWhatItCannotScriptAndChangesNothing(t *testing.T) {
	sim := scriptable(t)
	good := awssim.DeploymentRules{
		ECS:        []awssim.ECSDeploymentRule{{Service: "web", FailRollback: true}},
		CodeDeploy: []awssim.CodeDeployRule{{DeploymentGroup: "classic-dg", FailAt: "Install"}},
	}
	require.NoError(t, sim.ScriptDeployments(good))
	ecsRule := func(service string) awssim.DeploymentRules {
		return awssim.DeploymentRules{ECS: []awssim.ECSDeploymentRule{{Service: service, FailRollback: true}}}
	}
	cdRule := func(group, event string) awssim.DeploymentRules {
		return awssim.DeploymentRules{CodeDeploy: []awssim.CodeDeployRule{{DeploymentGroup: group, FailAt: event}}}
	}
	alarm := func(name, state string) awssim.DeploymentRules {
		return awssim.DeploymentRules{ECS: good.ECS, Alarms: []awssim.AlarmRule{{Name: name, State: state}}}
	}
	cases := map[string]struct {
		rules awssim.DeploymentRules
		want  []string
	}{
		"unknown service":       {ecsRule("nope"), []string{"ecs rule 0", "no service nope"}},
		"no service":            {ecsRule(""), []string{"service is required"}},
		"rolling service":       {ecsRule("api"), []string{"service api in cluster c", "ROLLING", "BLUE_GREEN, LINEAR or CANARY"}},
		"codedeploy service":    {ecsRule("classic"), []string{"service classic", "CODE_DEPLOY", "codeDeploy"}},
		"named twice":           {awssim.DeploymentRules{ECS: []awssim.ECSDeploymentRule{{Service: "web"}, {Service: "web"}}}, []string{"ecs rule 1", "web is named twice"}},
		"unknown group":         {cdRule("nope-dg", ""), []string{"codeDeploy rule 0", "no deployment group nope-dg"}},
		"not an event":          {cdRule("classic-dg", "AfterAllowTestTrafic"), []string{`failAt "AfterAllowTestTrafic"`, "AfterAllowTestTraffic"}},
		"a stage, not an event": {cdRule("classic-dg", "POST_TEST_TRAFFIC_SHIFT"), []string{"POST_TEST_TRAFFIC_SHIFT", "not a lifecycle event"}},
		"unknown alarm":         {alarm("web-5xxx", ""), []string{"alarm rule 0", "no alarm web-5xxx", "web-5xx"}},
		"bad alarm state":       {alarm("web-5xx", "RED"), []string{`state "RED"`}},
		"a later rule refused":  {awssim.DeploymentRules{CodeDeploy: []awssim.CodeDeployRule{{DeploymentGroup: "classic-dg"}}, ECS: []awssim.ECSDeploymentRule{{Service: "api"}}}, []string{"api"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := sim.ScriptDeployments(c.rules)
			require.Error(t, err)
			for _, w := range c.want {
				assert.ErrorContains(t, err, w)
			}
			assert.Equal(t, awssim.DeploymentRules{ECS: good.ECS, CodeDeploy: good.CodeDeploy,
				Alarms: []awssim.AlarmRule{{Name: "resize-errors", State: "OK"}, {Name: "web-5xx", State: "OK"}}}, sim.Deployments(), "nothing changed")
		})
	}
}

// scriptable is a simulator with a rolling service api, a blue/green web
// with its alarm, and a CodeDeploy service classic with group classic-dg.
func scriptable(t *testing.T) *awssim.Server {
	t.Helper()
	sim := awssim.New(awssim.DefaultOptions())
	require.NoError(t, sim.ECS.ApplySeed([]byte(`{"taskDefinitions":[{"family":"x","containerDefinitions":[{"name":"a","image":"i"}]}],
	"services":[{"cluster":"c","name":"api","taskDefinition":"x:1","desiredCount":1},
	 {"cluster":"c","name":"web","taskDefinition":"x:1","desiredCount":1,"strategy":"BLUE_GREEN","alarms":["web-5xx"]},
	 {"cluster":"c","name":"classic","taskDefinition":"x:1","desiredCount":1,"deploymentController":"CODE_DEPLOY"}],
	"deploymentGroups":[{"application":"app","name":"classic-dg","cluster":"c","service":"classic","prodListenerArn":"l-80",
	 "targetGroups":["tg-a","tg-b"],"containerName":"a","containerPort":80}]}`)))
	sim.Alarms.Set("web-5xx", "OK", "")
	sim.Alarms.Set("resize-errors", "OK", "")
	return sim
}

// alarmStates reads alarms through CloudWatch's DescribeAlarms.
func alarmStates(t *testing.T, sim *awssim.Server, names ...string) map[string]string {
	t.Helper()
	o := sim.Options()
	cw := cloudwatch.New(cloudwatch.Options{Region: o.Region, BaseEndpoint: aws.String(sim.Start(t)),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	out, err := cw.DescribeAlarms(t.Context(), &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	require.NoError(t, err)
	got := map[string]string{}
	for _, a := range out.MetricAlarms {
		got[aws.ToString(a.AlarmName)] = string(a.StateValue)
	}
	return got
}
