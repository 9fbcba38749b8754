package awssim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newLambdaClients(t *testing.T) (*awssim.Server, *lambda.Client, *cloudwatch.Client) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	creds := credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")
	return sim, lambda.New(lambda.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds}),
		cloudwatch.New(cloudwatch.Options{Region: o.Region, BaseEndpoint: aws.String(url), Credentials: creds})
}

func TestLambda_UpdatePublishAndMoveTheAliasWithWeights(t *testing.T) {
	sim, c, _ := newLambdaClients(t)
	sim.Lambda.AddFunction("resize", "Zip")
	sim.Lambda.OnUpdate(func(string) awssim.UpdateBehavior { return awssim.UpdateBehavior{Steps: 3} })
	ctx := t.Context()

	fn, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("resize")})
	require.NoError(t, err)
	assert.Equal(t, lambdatypes.PackageTypeZip, fn.Configuration.PackageType)
	assert.Equal(t, lambdatypes.LastUpdateStatusSuccessful, fn.Configuration.LastUpdateStatus)

	up, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("resize"), ZipFile: []byte("PK new code")})
	require.NoError(t, err)
	assert.Equal(t, lambdatypes.LastUpdateStatusInProgress, up.LastUpdateStatus)
	_, err = c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("resize")})
	assert.Equal(t, "ResourceConflictException", apiCode(err), "not while the update is in progress")

	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.NoError(t, w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("resize")}, time.Minute))
	v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("resize")})
	require.NoError(t, err)
	assert.Equal(t, "2", aws.ToString(v.Version))
	again, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("resize")})
	require.NoError(t, err)
	assert.Equal(t, "2", aws.ToString(again.Version), "nothing changed: the same version")

	a, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("resize"), Name: aws.String("live"),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.1}}})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(a.FunctionVersion))
	assert.Equal(t, map[string]float64{"2": 0.1}, a.RoutingConfig.AdditionalVersionWeights)
	got, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("resize"), Name: aws.String("live")})
	require.NoError(t, err)
	assert.Equal(t, 0.1, got.RoutingConfig.AdditionalVersionWeights["2"])

	_, err = c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("resize"), Name: aws.String("live"), FunctionVersion: aws.String("2"),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}})
	require.NoError(t, err)
	version, weights := sim.Lambda.Alias("resize", "live")
	assert.Equal(t, "2", version)
	assert.Empty(t, weights)
	assert.Equal(t, 1, sim.Count("lambda", "UpdateFunctionCode"))
}

func TestLambda_RefusesWhatLambdaRefuses(t *testing.T) {
	sim, c, _ := newLambdaClients(t)
	sim.Lambda.AddFunction("resize", "Zip")
	sim.Lambda.AddFunction("api", "Image")
	ctx := t.Context()

	_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
	assert.Equal(t, "ResourceNotFoundException", apiCode(err))
	_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("resize"), ImageUri: aws.String("x/y:1")})
	assert.Equal(t, "InvalidParameterValueException", apiCode(err), "a zip function takes a zip")
	_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("api"), ZipFile: []byte("PK")})
	assert.Equal(t, "InvalidParameterValueException", apiCode(err), "an image function takes an image")
	_, err = c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("resize"), Name: aws.String("canary")})
	assert.Equal(t, "ResourceNotFoundException", apiCode(err))
	_, err = c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("resize"), Name: aws.String("live"), FunctionVersion: aws.String("9")})
	assert.Equal(t, "ResourceNotFoundException", apiCode(err))
	_, err = c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("resize"), Name: aws.String("live"), FunctionVersion: aws.String("1")})
	assert.Equal(t, "ResourceConflictException", apiCode(err))

	sim.Lambda.OnUpdate(func(string) awssim.UpdateBehavior { return awssim.UpdateBehavior{Fail: "image not found"} })
	_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("api"), ImageUri: aws.String("x/y:2")})
	require.NoError(t, err)
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("api")})
	require.NoError(t, err)
	assert.Equal(t, lambdatypes.LastUpdateStatusFailed, cfg.LastUpdateStatus)
	assert.Equal(t, "image not found", aws.ToString(cfg.LastUpdateStatusReason))
}

func TestAlarms_DescribeAlarmsOverCBOR(t *testing.T) {
	sim, _, cw := newLambdaClients(t)
	sim.Alarms.Set("resize-errors", "OK", "")
	sim.Alarms.FireAfter("resize-errors", 2, "Threshold Crossed: 3 errors")
	ctx := t.Context()
	describe := func() cwtypes.MetricAlarm {
		out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"resize-errors", "unknown"}})
		require.NoError(t, err)
		require.Len(t, out.MetricAlarms, 1, "unknown names are left out")
		return out.MetricAlarms[0]
	}
	first := describe()
	assert.Equal(t, "resize-errors", aws.ToString(first.AlarmName))
	assert.Equal(t, cwtypes.StateValueOk, first.StateValue)
	second := describe()
	assert.Equal(t, cwtypes.StateValueAlarm, second.StateValue)
	assert.Equal(t, "Threshold Crossed: 3 errors", aws.ToString(second.StateReason))
}

func TestLambda_PublishChecksTheCodeShaAndVersionsKeepTheirImage(t *testing.T) {
	sim, c, _ := newLambdaClients(t)
	sim.Lambda.AddFunction("api", "Image")
	ctx := t.Context()
	_, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("api"), ImageUri: aws.String("r/api@sha256:2")})
	require.NoError(t, err)
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("api")}) // the update finishes
	require.NoError(t, err)
	_, err = c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api"), CodeSha256: aws.String("not-it")})
	assert.Equal(t, "PreconditionFailedException", apiCode(err))
	v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api")})
	require.NoError(t, err)
	assert.Equal(t, "2", aws.ToString(v.Version))
	one, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("api"), Qualifier: aws.String("1")})
	require.NoError(t, err)
	assert.NotEqual(t, "r/api@sha256:2", aws.ToString(one.Code.ImageUri), "version 1 keeps its own image")
}
