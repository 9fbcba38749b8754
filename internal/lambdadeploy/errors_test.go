package lambdadeploy_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// The engine's errors speak of the function, its code and its alias; the
// setting to fix is data a caller renders as its own flag.
func TestErrors_NameTheSettingToFixNotACommandLineFlag(t *testing.T) {
	e := newEnv(t)
	deploy := func(change func(*lambdadeploy.Options)) func(context.Context) error {
		return func(ctx context.Context) error {
			o := e.opts("PK v2")
			change(&o)
			_, err := lambdadeploy.Deploy(ctx, e.clients, o)
			return err
		}
	}
	rollback := func(ctx context.Context) error {
		_, err := lambdadeploy.Rollback(ctx, e.clients, lambdadeploy.RollbackOptions{Function: "resize", Out: e.out})
		return err
	}
	tests := []struct {
		name    string
		run     func(context.Context) error
		setting string
		want    string
	}{
		{"ZipForAnImageFunction", deploy(func(o *lambdadeploy.Options) { o.Function = "api" }), "ImageURI",
			"function api runs a container image: give an image, not a folder to zip; nothing was changed"},
		{"ImageForAZipFunction", deploy(func(o *lambdadeploy.Options) { o.Zip, o.ImageURI = nil, "r/x:1" }), "Zip",
			"function resize runs a zip package: give a folder to zip, not an image"},
		{"CanaryOnANewAlias", deploy(func(o *lambdadeploy.Options) { o.Canary, o.Alias = 0.1, "beta" }), "Canary",
			"release it once without a canary (that creates the alias)"},
		{"EmptyFunction", deploy(func(o *lambdadeploy.Options) { o.Function = "" }), "Function", "function is empty: name the Lambda function"},
		{"RollbackWithoutTarget", rollback, "ToVersion", "rollback of function resize: name the version to go back to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(t.Context())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "--", "no command-line flag in an engine error")
			assert.NotContains(t, err.Error(), "deploy-lambda")
			assert.Equal(t, []string{tt.setting}, setting.Names(err))
		})
	}
}
