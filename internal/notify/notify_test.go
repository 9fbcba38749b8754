package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPost_SendsTextAndTheRelease(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		body, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(body, &got))
	}))
	defer srv.Close()
	require.NoError(t, Post(t.Context(), srv.URL+"/hooks/T000/secret-token", Message{Text: "esteira: staging succeeded", Release: map[string]string{"outcome": "succeeded"}}))
	assert.Equal(t, "esteira: staging succeeded", got["text"])
	assert.Equal(t, map[string]any{"outcome": "succeeded"}, got["release"])
}

// Errors say what failed and never carry the URL (its path is the token).
func TestPost_ErrorsNeverShowTheURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	defer srv.Close()
	err := Post(t.Context(), srv.URL+"/hooks/secret-token", Message{Text: "x"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HTTP 403")
	for _, hook := range []string{"http://127.0.0.1:1/hooks/secret-token", "ftp://h/secret-token", "::secret-token"} {
		err := Post(t.Context(), hook, Message{Text: "x"})
		require.Error(t, err, hook)
		assert.False(t, strings.Contains(err.Error(), "secret-token"), "the error shows the URL: %v", err)
	}
}
