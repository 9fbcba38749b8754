package teststack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBinary_MissingToolTellsToRunMakeTools(t *testing.T) {
	t.Setenv(binDirEnv, t.TempDir())
	_, err := binary("versitygw")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "versitygw not found in .cache/bin: run make tools")
}

func TestBinary_FindsToolsInTheRepositoryCache(t *testing.T) {
	t.Setenv(binDirEnv, "")
	root, err := repoRoot()
	require.NoError(t, err)
	assert.FileExists(t, root+"/go.mod")
}

// Between freeAddr's probe and the server's bind another process may take
// the port; the start must then fail (and retry elsewhere), not hand the
// tests a stranger's server that happens to answer HTTP.
func TestStart_RefusesAPortThatAnotherServerAnswersOn(t *testing.T) {
	stranger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(stranger.Close)
	taken := strings.TrimPrefix(stranger.URL, "http://")
	orig := freeAddr
	freeAddr = func() (string, error) { return taken, nil }
	t.Cleanup(func() { freeAddr = orig })

	tests := []struct {
		name  string
		start func() error
		want  string
	}{
		{"registry", func() error { _, err := startRegistry(); return err }, "refused this registry's password (HTTP 401): another process holds the port"},
		{"versitygw", func() error { _, err := startS3(); return err }, "refused this versitygw's root credentials: another process holds the port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.start()
			require.Error(t, err, "the start succeeded against a server that is not ours")
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), taken)
		})
	}
}
