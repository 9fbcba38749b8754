package ecsdeploy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// The wait times out while the gate runs on test traffic (a slow gate,
// cut short): the release says it timed out, not that the gate failed,
// and the deployment is stopped with rollback before production moved.
func TestDeploy_CodeDeployTimeoutDuringTheGateIsATimeout(t *testing.T) {
	e, o := codeDeployEnv(t)
	o.Timeout = 2 * time.Second
	o.TestGate = func(ctx context.Context) (string, error) {
		<-ctx.Done() // a gate that outlasts the wait
		return "", fmt.Errorf("run the gate: %w", ctx.Err())
	}
	rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.Error(t, err)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome, e.out.String())
	assert.Contains(t, err.Error(), "the wait timed out while the quality gate ran on test traffic")
	assert.Contains(t, err.Error(), "CodeDeploy rolled it back: all production traffic is on api:1")
	assert.NotContains(t, e.out.String(), "quality gate FAILED", "a gate cut short did not fail")
	assert.Equal(t, e.v1, aws.ToString(e.service(t).TaskDefinition))
}
