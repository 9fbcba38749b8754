package ecsdeploy_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
)

// A migration command that carries a credential still runs as given, but the
// credential reaches neither the release record, nor the progress output
// (dry run, streamed logs, the error of a failed migration), nor migrate's
// result.
func TestDeploy_CredentialsInTheMigrationCommandAreNeverShownOrStored(t *testing.T) {
	cmd := []string{"./app", "migrate", "--db-password=hunter2-secret", "--dsn", "host=db pw=marked-value",
		"--url=postgres://app:url-secret@db/app"}
	leaks := []string{"hunter2-secret", "marked-value", "url-secret"}
	for _, fail := range []bool{false, true} {
		e := newEnv(t, awssim.ServiceSpec{})
		var ran []string
		e.sim.ECS.OnRunTask(func(c awssim.RunTaskCall) awssim.TaskBehavior {
			ran = c.Command["app"]
			b := awssim.TaskBehavior{LogLines: map[string][]string{"app": {"connecting with hunter2-secret", "dsn postgres://app:url-secret@db/app"}}}
			if fail {
				b.ExitCodes = map[string]int{"app": 1}
			}
			return b
		})
		o := e.opts(imgV2)
		o.MigrateCommand, o.Redact = cmd, []string{"--dsn"}
		rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
		assert.Equal(t, fail, err != nil, "%v", err)
		assert.Equal(t, cmd, ran, "the task runs the command as given")
		stored, jerr := json.Marshal(rec)
		require.NoError(t, jerr)
		shown := e.out.String() + string(stored)
		if err != nil {
			shown += err.Error()
		}
		for _, leak := range leaks {
			assert.NotContains(t, shown, leak, "failing=%v", fail)
		}
		assert.Equal(t, "--db-password=<redacted>", rec.Backend.Migration.Command[2])

		dry := e.opts(imgV2)
		dry.MigrateCommand, dry.Redact, dry.DryRun, dry.Force = cmd, []string{"--dsn"}, true, true
		_, err = ecsdeploy.Deploy(t.Context(), e.clients, dry)
		require.NoError(t, err)
		for _, leak := range leaks {
			assert.NotContains(t, e.out.String(), leak, "dry run")
		}
	}

	e := newEnv(t, awssim.ServiceSpec{})
	e.sim.ECS.OnRunTask(func(c awssim.RunTaskCall) awssim.TaskBehavior {
		return awssim.TaskBehavior{LogLines: map[string][]string{"app": {"using hunter2-secret"}}}
	})
	res, err := ecsdeploy.Migrate(t.Context(), e.clients, ecsdeploy.MigrateOptions{Cluster: "main", Service: "api", PollInterval: time.Millisecond, Timeout: 20 * time.Second,
		Command: cmd, Redact: []string{"--dsn"}, Out: e.out})
	require.NoError(t, err)
	out, _ := json.Marshal(res)
	for _, leak := range leaks {
		assert.NotContains(t, string(out)+e.out.String(), leak, "migrate")
	}
	assert.Equal(t, "--db-password=<redacted>", res.Command[2])
	assert.True(t, strings.HasPrefix(res.Log[0], "using <redacted>"))
}
