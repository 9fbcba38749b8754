package lambdadeploy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
)

// The CLI splits --env at every comma; a word without = continues the value.
func TestParseEnv_KeepsCommasInValues(t *testing.T) {
	env, err := lambdadeploy.ParseEnv([]string{"SIZES=320", "640", "1280", "LOG=info"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"SIZES": "320,640,1280", "LOG": "info"}, env)
	_, err = lambdadeploy.ParseEnv([]string{"640"})
	assert.ErrorContains(t, err, "give NAME=value")
}

func TestParseShare_IsAPercentage(t *testing.T) {
	v, err := lambdadeploy.ParseShare("10%")
	require.NoError(t, err)
	assert.InDelta(t, 0.1, v, 1e-9)
	for _, bad := range []string{"10", "0%", "100%", "ten%"} {
		_, err := lambdadeploy.ParseShare(bad)
		assert.Error(t, err, bad)
	}
}
