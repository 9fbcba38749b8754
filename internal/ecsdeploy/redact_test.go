package ecsdeploy_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
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

// leakForms are the ways a credential is written in a migration command
// (issue 16); the secret in each is "s3cr3t-value".
var leakForms = map[string][]string{
	"-p x":                    {"mysql", "-u", "app", "-p", "s3cr3t-value"},
	"-px":                     {"mysql", "-u", "app", "-ps3cr3t-value"},
	"--passphrase=x":          {"./app", "migrate", "--passphrase=s3cr3t-value"},
	"--key x":                 {"./app", "migrate", "--key", "s3cr3t-value"},
	"--password:x":            {"./app", "migrate", "--password:s3cr3t-value"},
	"sh -c":                   {"sh", "-c", "./app migrate --token s3cr3t-value"},
	"?user=u&password=x":      {"./app", "migrate", "--db", "postgres://db/app?user=u&password=s3cr3t-value"},
	"?sslpassword=x":          {"./app", "migrate", "--db", "postgres://db/app?sslpassword=s3cr3t-value"},
	"Authorization: Bearer x": {"curl", "-H", "Authorization: Bearer s3cr3t-value", "https://api.example/migrate"},
	"Authorization: Basic x":  {"curl", "-H", "Authorization: Basic s3cr3t-value", "https://api.example/migrate"},
}

// Each form is hidden in the command, in the streamed log (the migration
// echoes its command, then the bare value), in the error and in the record
// as stored in S3.
func TestDeploy_HidesEveryFormOfCredentialShownOrStored(t *testing.T) {
	store := newStore(t)
	for name, cmd := range leakForms {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, awssim.ServiceSpec{})
			e.sim.ECS.OnRunTask(func(c awssim.RunTaskCall) awssim.TaskBehavior {
				return awssim.TaskBehavior{ExitCodes: map[string]int{"app": 1},
					LogLines: map[string][]string{"app": {"+ " + strings.Join(cmd, " "), "login refused for s3cr3t-value"}}}
			})
			o := e.opts(imgV2)
			o.MigrateCommand, o.Releases, o.Who = cmd, store, "bob@ci"
			rec, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
			require.Error(t, err)
			assert.Contains(t, e.out.String(), "login refused for <redacted>", "the log is streamed")
			stored := storedRecord(t, store, rec.ID)
			assert.Contains(t, stored, "<redacted>")
			for where, text := range map[string]string{"progress": e.out.String(), "error": err.Error(), "record": stored} {
				assert.NotContains(t, text, "s3cr3t-value", where)
			}

			var plan strings.Builder // the plan of a dry run shows the command, for every service of a group
			o.DryRun, o.Force, o.Out = true, true, &plan
			_, err = ecsdeploy.DeployGroup(t.Context(), e.clients, o, []string{"api"})
			require.NoError(t, err)
			assert.Contains(t, plan.String(), "<redacted>")
			assert.NotContains(t, plan.String(), "s3cr3t-value", "dry run")
		})
	}
}

// A migration that logs its own --password and is cancelled (or times
// out: the same path) leaves neither the raw log tail in the record's
// migrate step nor the value in the error or the progress.
func TestDeploy_CancelledMigrationKeepsNoCredentialFromItsLog(t *testing.T) {
	store := newStore(t)
	e := newEnv(t, awssim.ServiceSpec{})
	e.sim.ECS.OnRunTask(func(c awssim.RunTaskCall) awssim.TaskBehavior {
		return awssim.TaskBehavior{LogLines: map[string][]string{"app": {"DEBUG connect --password hunter2-from-log", "retrying as hunter2-from-log"}}}
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	o := e.opts(imgV2)
	o.MigrateCommand, o.Releases, o.Who, o.PollInterval = []string{"./app", "migrate"}, store, "bob@ci", 50*time.Millisecond
	o.Out = &cancelOn{w: e.out, word: " RUNNING", cancel: cancel} // ctrl-C once the task runs
	rec, err := ecsdeploy.Deploy(ctx, e.clients, o)
	require.Error(t, err)
	require.Contains(t, err.Error(), "interrupted")
	stored := storedRecord(t, store, rec.ID)
	assert.Contains(t, stored, `"name": "migrate"`)
	assert.Contains(t, e.out.String(), "retrying as <redacted>")
	for where, text := range map[string]string{"progress": e.out.String(), "error": err.Error(), "record": stored} {
		assert.NotContains(t, text, "hunter2-from-log", where)
	}
}

// cancelOn calls cancel once word is written through it.
type cancelOn struct {
	w      io.Writer
	word   string
	cancel func()
}

func (c *cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.word) {
		c.cancel()
	}
	return c.w.Write(p)
}

// storedRecord is the record as S3 holds it, in JSON.
func storedRecord(t *testing.T, store *release.Store, id string) string {
	t.Helper()
	recs, err := store.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	for _, r := range recs {
		if r.ID == id {
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false) // <redacted> as written
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(r))
			return b.String()
		}
	}
	t.Fatalf("record %s is not in the store", id)
	return ""
}
