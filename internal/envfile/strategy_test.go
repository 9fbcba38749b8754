package envfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse_StrategyWithItsSettings(t *testing.T) {
	env, err := Parse("esteira.yaml", []byte(`environments:
  prod:
    backend:
      cluster: c
      services: [web]
      strategy: {type: canary, percent: 2.5, stepBakeMinutes: 3, bakeMinutes: 0, alarms: [web-5xx, web-latency]}
`), "prod")
	require.NoError(t, err)
	s := env.Backend.Strategy
	assert.Equal(t, "canary", s.Type)
	require.NotNil(t, s.Percent)
	assert.Equal(t, 2.5, *s.Percent)
	require.NotNil(t, s.StepBakeMinutes)
	assert.Equal(t, 3, *s.StepBakeMinutes)
	require.NotNil(t, s.BakeMinutes)
	assert.Equal(t, 0, *s.BakeMinutes, "a bake of 0 is said, not left to the service")
	assert.Equal(t, []string{"web-5xx", "web-latency"}, s.Alarms)

	env, err = Parse("esteira.yaml", []byte("environments:\n  prod:\n    backend: {cluster: c, services: [web], strategy: blue-green}\n"), "prod")
	require.NoError(t, err)
	assert.Equal(t, Strategy{Type: "blue-green"}, env.Backend.Strategy)
}
