//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// function deploy and rollback against the sandbox's function resize:
// a zip release, a no-op, a canary whose alarm fires (alias back on the
// exact version), an update Lambda fails (nothing published), a rollback,
// and bad input refused before any change.
func TestLambda(t *testing.T) {
	require.NoError(t, control.SetLambda(t.Context(), endpoint, awssim.LambdaRules{}))
	t.Cleanup(func() { _ = control.SetLambda(context.Background(), endpoint, awssim.LambdaRules{}) })
	// changed is a copy of the example with one file changed: new code.
	changed := func(t *testing.T, what string) string {
		dir := copyDir(t, "examples/lambda")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "VERSION"), []byte(what), 0o644))
		return dir
	}
	deploy := func(extra ...string) result {
		return inSandbox(t, append([]string{"lambda", "--name", sandbox.Function, "--poll-interval", "1s", "deploy"}, extra...)...)
	}
	var released string

	t.Run("a zip release publishes a version and moves the alias", func(t *testing.T) {
		rec := record(t, ok(t, deploy("--source", "./examples/lambda", "--env", "SIZES=320,640")))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		require.NotNil(t, rec.Lambda)
		assert.Equal(t, rec.Lambda.AfterVersion, aliasVersion(t))
		assert.NotEqual(t, rec.Lambda.BeforeVersion, rec.Lambda.AfterVersion)
		released = rec.Lambda.AfterVersion
	})
	require.NotEmpty(t, released, "the first release must succeed for the others to mean anything")

	t.Run("the same folder again changes nothing", func(t *testing.T) {
		rec := record(t, ok(t, deploy("--source", "./examples/lambda", "--env", "SIZES=320,640")))
		assert.Equal(t, release.OutcomeNoChange, rec.Outcome)
		assert.Equal(t, released, aliasVersion(t))
	})

	t.Run("a canary whose alarm fires puts the alias back on the exact version", func(t *testing.T) {
		require.NoError(t, control.SetLambda(t.Context(), endpoint, awssim.LambdaRules{
			Alarms: []awssim.AlarmRule{{Name: sandbox.FunctionAlarm, FireAfter: 3, Reason: "e2e: 5 errors in 1 minute"}}}))
		r := deploy("--source", changed(t, "canary"), "--canary", "10%", "--bake", "30s", "--alarm", sandbox.FunctionAlarm)
		fails(t, r, "alarm "+sandbox.FunctionAlarm+" fired (e2e: 5 errors in 1 minute) during the bake", "rolled back: alias live is back on version "+released)
		assert.Contains(t, functionOutput(r.stderr), "10% of live to version", "the canary took its share first")
		assert.Equal(t, released, aliasVersion(t))
		require.NoError(t, control.SetLambda(t.Context(), endpoint, awssim.LambdaRules{Alarms: []awssim.AlarmRule{{Name: sandbox.FunctionAlarm}}}))
	})

	t.Run("an update Lambda fails publishes nothing", func(t *testing.T) {
		require.NoError(t, control.SetLambda(t.Context(), endpoint, awssim.LambdaRules{
			Updates: []awssim.UpdateRule{{Function: sandbox.Function, UpdateBehavior: awssim.UpdateBehavior{Steps: 2, Fail: "e2e: bootstrap: exec format error"}}}}))
		fails(t, deploy("--source", changed(t, "broken")), "failed: e2e: bootstrap: exec format error", "nothing was published")
		assert.Equal(t, released, aliasVersion(t))
		require.NoError(t, control.SetLambda(t.Context(), endpoint, awssim.LambdaRules{}))
	})

	t.Run("rollback goes back to the version the last release replaced", func(t *testing.T) {
		next := record(t, ok(t, deploy("--source", changed(t, "next"))))
		require.Equal(t, released, next.Lambda.BeforeVersion)
		dry := ok(t, inSandbox(t, "lambda", "--name", sandbox.Function, "rollback", "--dry-run"))
		assert.Contains(t, dry, "to version "+released)
		assert.Equal(t, next.Lambda.AfterVersion, aliasVersion(t), "the dry run changed nothing")
		back := record(t, ok(t, inSandbox(t, "lambda", "--name", sandbox.Function, "rollback")))
		assert.Equal(t, released, back.Lambda.AfterVersion)
		assert.Equal(t, released, aliasVersion(t))
	})

	t.Run("bad input is refused before any change", func(t *testing.T) {
		before := aliasVersion(t)
		fails(t, inSandbox(t, "lambda", "--name", "rsize", "deploy", "--source", "./examples/lambda"), "function rsize does not exist")
		fails(t, deploy("--source", changed(t, "y"), "--dry-run", "--canary", "10%", "--alarm", "resize-erors"), "no CloudWatch metric alarm is named resize-erors")
		fails(t, deploy("--image", "localhost:4566/backend:seed"), "runs a zip package: give a folder to zip, not an image", "to fix it: deploy --source")
		fails(t, deploy("--source", "./examples/lambda", "--canary", "10"), "as a percentage")
		fails(t, deploy("--source", changed(t, "x"), "--canary", "10%", "--alarm", "resize-erors"), "no CloudWatch metric alarm is named resize-erors")
		assert.Equal(t, before, aliasVersion(t))
	})
}

func TestFunction_StatusSaysWhereTheAliasPoints(t *testing.T) {
	text := ok(t, inSandbox(t, "lambda", "--name", sandbox.Function, "status"))
	assert.Contains(t, text, sandbox.Function)
	assert.Contains(t, text, aliasVersion(t))
}

func aliasVersion(t *testing.T) string {
	t.Helper()
	c := lambda.New(lambda.Options{Region: sandbox.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
	out, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String(sandbox.Function), Name: aws.String(sandbox.FunctionAlias)})
	require.NoError(t, err)
	assert.Nil(t, out.RoutingConfig, "the alias routes all its traffic to one version")
	return aws.ToString(out.FunctionVersion)
}
