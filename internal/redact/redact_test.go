package redact

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCommand_HidesWhatLooksLikeCredentials(t *testing.T) {
	cases := []struct{ in, want string }{
		{"./app migrate --db-password=hunter22", "./app migrate --db-password=<redacted>"},
		{"./app migrate --password hunter22 --verbose", "./app migrate --password <redacted> --verbose"},
		{"env PGPASSWORD=hunter22 psql", "env PGPASSWORD=<redacted> psql"},
		{"migrate --db=postgres://app:hunter22@db:5432/app", "migrate --db=postgres://app:<redacted>@db:5432/app"},
		{"DATABASE_URL=mysql://root:s3cr3t@db/x migrate", "DATABASE_URL=mysql://root:<redacted>@db/x migrate"},
		{"migrate --api-key=abcd1234 --client-secret xyz9", "migrate --api-key=<redacted> --client-secret <redacted>"},
		{"bin/rails db:migrate RAILS_ENV=production", "bin/rails db:migrate RAILS_ENV=production"},
		{"migrate --dry-run --target 42", "migrate --dry-run --target 42"},
		{"migrate https://example.com/x", "migrate https://example.com/x"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, strings.Join(Command(strings.Fields(c.in)), " "), c.in)
	}
}

func TestCommand_HidesNamesTheUserMarks(t *testing.T) {
	got := Command([]string{"migrate", "--dsn", "host=db user=app password=x", "DB_CONN=abc"}, "--dsn", "DB_CONN")
	assert.Equal(t, []string{"migrate", "--dsn", Mask, "DB_CONN=" + Mask}, got)
}

func TestLines_HidesTheCommandsValuesInItsOutput(t *testing.T) {
	r := New()
	r.Command([]string{"migrate", "--password=hunter22", "--db=postgres://app:pw-secret@db/app"})
	got := r.Lines([]string{"connecting with hunter22", "dsn postgres://app:pw-secret@db/app", "also https://u:other@h/", "again pw-secret"})
	for _, l := range got {
		assert.NotContains(t, l, "hunter22")
		assert.NotContains(t, l, "pw-secret")
		assert.NotContains(t, l, "other")
	}
}
