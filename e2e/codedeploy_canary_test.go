//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

// The alarm drill for a CodeDeploy service: classic's group moves
// production traffic as a 10% canary and watches CodeDeployAlarm; the
// gate passes on test traffic, the canary takes its 10%, and the alarm
// fires while it waits: CodeDeploy stops the deployment and its rollback
// puts every bit of production traffic back on the exact revision that
// ran before, as the release and its record say, naming the alarm.
func TestRelease_AnAlarmDuringTheCodeDeployCanaryRollsItBack(t *testing.T) {
	reset := func() {
		c := context.WithoutCancel(t.Context())
		require.NoError(t, control.SetRules(c, endpoint, nil))
		require.NoError(t, control.SetDeployments(c, endpoint, awssim.DeploymentRules{Alarms: []awssim.AlarmRule{{Name: sandbox.CodeDeployAlarm, State: "OK"}}}))
	}
	reset()
	t.Cleanup(reset)
	ref := strings.TrimSpace(ok(t, inSandbox(t, "publish", "--source", "./examples/backend", "--repository", sandbox.Repository, "--tag", unique("e2e-cd-canary"))))
	before := steadyRevision(t, sandbox.CodeDeployed)
	project := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(project, "esteira.yaml"), []byte(`environments:
  classic:
    repository: backend
    url: http://www.sandbox.example/
    testUrl: http://test-listener.sandbox.example/
    gate:
      image: debian:bookworm
      command: [sh, -c, 'echo "gate at $ESTEIRA_URL: ok"']
    backend:
      cluster: sandbox
      services: [classic]
      codeDeploy:
        classic: {application: `+sandbox.CodeDeployApp+`, deploymentGroup: `+sandbox.CodeDeployGroup+`}
`), 0o644))

	// The first look CodeDeploy takes at the alarm once the canary has its
	// share finds it in ALARM: a rising error rate on the 10%.
	require.NoError(t, control.SetDeployments(t.Context(), endpoint, awssim.DeploymentRules{
		Alarms: []awssim.AlarmRule{{Name: sandbox.CodeDeployAlarm, FireAfter: 1, Reason: "esteira e2e: 5xx above 1%"}}}))
	// --force: the example backend builds the same image (digest) as the
	// tests before, which would make the release a no-change.
	r := inSandbox(t, "env", "--name", "classic", "--project", project, "--poll-interval", "1s", "release", "--image", ref, "--force")
	logOutcome(t, r)
	fails(t, r, "alarm "+sandbox.CodeDeployAlarm+" went into ALARM while production traffic moved, and CodeDeploy stopped the deployment (ALARM_ACTIVE)",
		"Succeeded; CodeDeploy rolled it back", "all production traffic is on "+revName(before))
	assert.Contains(t, r.stderr, "codedeploy canary 10% 5m ("+sandbox.CodeDeployConfig+"), CodeDeploy watching "+sandbox.CodeDeployAlarm)
	assert.Contains(t, r.stderr, "quality gate passed on test traffic")
	assert.Contains(t, r.stderr, "production 90% blue / 10% green", "the canary took its share of production traffic")
	assert.NotContains(t, r.stderr, "production 0% blue / 100% green", "the rest of production traffic never moved")
	assert.Equal(t, before, steadyRevision(t, sandbox.CodeDeployed), "the exact pre-deploy revision is live")

	rec := newestRecord(t, sandbox.CodeDeployed)
	assert.Equal(t, release.OutcomeRolledBack, rec.Outcome)
	assert.Equal(t, "codedeploy canary 10% 5m", rec.Backend.Strategy)
	assert.Equal(t, before, rec.Backend.BeforeRevision)
	assert.Contains(t, rec.Error, sandbox.CodeDeployAlarm+" went into ALARM", "the record names the alarm")
	assert.Contains(t, rec.Error, "all production traffic is on "+revName(before), "the record says where production traffic is")
	require.NotEmpty(t, rec.Backend.ServiceDeployment)
	assert.Contains(t, r.stderr, "CodeDeploy deployment "+rec.Backend.ServiceDeployment)
}
