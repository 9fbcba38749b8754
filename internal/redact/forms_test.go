package redact

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// forms are the ways a credential is written in a command or a log line
// (issue 16): the secret in each is "s3cr3t-value" and must never show.
var forms = []struct {
	name string
	cmd  []string
}{
	{"short -p then the value", []string{"mysql", "-u", "app", "-p", "s3cr3t-value", "app"}},
	{"short -p glued to the value", []string{"mysql", "-u", "app", "-ps3cr3t-value", "app"}},
	{"--passphrase=", []string{"./app", "sign", "--passphrase=s3cr3t-value"}},
	{"--key then the value", []string{"./app", "fetch", "--key", "s3cr3t-value"}},
	{"--password:", []string{"./app", "migrate", "--password:s3cr3t-value"}},
	{"sh -c with --token", []string{"sh", "-c", "./app migrate --token s3cr3t-value && echo done"}},
	{"sh -c with -p glued", []string{"sh", "-c", "mysql -ps3cr3t-value < schema.sql"}},
	{"query password", []string{"./app", "migrate", "--db", "postgres://db/app?user=u&password=s3cr3t-value&sslmode=require"}},
	{"query sslpassword", []string{"./app", "migrate", "--db", "postgres://db/app?sslpassword=s3cr3t-value"}},
	{"bearer header", []string{"curl", "-H", "Authorization: Bearer s3cr3t-value", "https://api.example/migrate"}},
	{"basic header", []string{"curl", "-H", "Authorization: Basic s3cr3t-value", "https://api.example/migrate"}},
	{"header in sh -c", []string{"sh", "-c", "curl -H 'Authorization: Bearer s3cr3t-value' https://api.example"}},
	{"json field", []string{"./app", "migrate", `--config={"user":"u","password":"s3cr3t-value"}`}},
	{"json field after a space", []string{"./app", "migrate", `--config={"user": "u", "password": "s3cr3t-value"}`}},
	{"curl user:password", []string{"curl", "-u", "admin:s3cr3t-value", "https://api.example/migrate"}},
	{"url userinfo", []string{"./app", "migrate", "--db=postgres://app:s3cr3t-value@db/app"}},
	{"variable", []string{"env", "PGPASSWORD=s3cr3t-value", "psql"}},
	{"dsn words", []string{"./app", "migrate", "--dsn", "host=db user=app password=s3cr3t-value sslmode=require"}},
}

const secret = "s3cr3t-value"

func TestRedactor_HidesEveryFormInTheCommand(t *testing.T) {
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			shown := strings.Join(New().Command(f.cmd), " ")
			assert.NotContains(t, shown, secret)
			assert.Contains(t, shown, Mask)
		})
	}
}

// The command's words written as one log line (what a migration prints
// when it echoes its arguments) are hidden by a redactor that never saw
// the command.
func TestRedactor_HidesEveryFormInALogLine(t *testing.T) {
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			line := "running: " + strings.Join(f.cmd, " ")
			shown := New().String(line)
			assert.NotContains(t, shown, secret)
		})
	}
}

// Once a value is known to be secret it is hidden wherever it appears
// later, bare: in log lines, errors and anything else shown.
func TestRedactor_HidesALearnedValueEverywhere(t *testing.T) {
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			r := New()
			r.Command(f.cmd)
			assert.Equal(t, "connect failed for "+Mask+" (retrying)", r.String("connect failed for s3cr3t-value (retrying)"))
			err := r.Error(fmt.Errorf("migrate: %w", errors.New("login with s3cr3t-value refused")))
			assert.Equal(t, "migrate: login with "+Mask+" refused", err.Error())
		})
	}
	r := New()
	var b strings.Builder
	w := r.Writer(&b)
	fmt.Fprintln(w, "    | DEBUG auth --password hunter2-from-log")
	fmt.Fprintln(w, "    | retrying with hunter2-from-log")
	assert.NotContains(t, b.String(), "hunter2-from-log", "learned from a log line, hidden in the next")
	assert.Equal(t, []string{"tail: " + Mask}, r.Lines([]string{"tail: hunter2-from-log"}))
}

// The values learned are hidden in what was seen before them too, within
// one command.
func TestRedactor_CommandHidesAValueInEarlierWords(t *testing.T) {
	got := New().Command([]string{"echo", "abcd-secret-1", "--token", "abcd-secret-1"})
	assert.Equal(t, []string{"echo", Mask, "--token", Mask}, got)
}

// What is not a credential stays as written. Short -p is taken for a
// password (mysql -pSECRET, -p SECRET): a port shown as <redacted> is
// safe, a leaked password is not.
func TestRedactor_LeavesOrdinaryWordsAlone(t *testing.T) {
	for _, in := range []string{
		"bin/rails db:migrate RAILS_ENV=production",
		"migrate --dry-run --target 42",
		"migrate https://example.com/x?page=2&sort=name",
		"./app migrate --steps 3 --verbose",
		"applying 0042_add_users.sql: ok",
		"token expired? no: key rotation is off",
		"--monkey banana",
	} {
		assert.Equal(t, in, New().String(in), in)
		assert.Equal(t, strings.Fields(in), New().Command(strings.Fields(in)), in)
	}
	assert.Equal(t, []string{"psql", "-h", "db", "-p", Mask}, New().Command([]string{"psql", "-h", "db", "-p", "5432"}), "ambiguous -p: hidden")
}
