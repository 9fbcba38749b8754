package ecrauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ExistingDigest's "" lets a push go ahead under the immutable-tag rule, so
// only the registry's own answer for the manifest may mean "absent": a 404
// from something that is not the registry's manifest endpoint (an Endpoint
// that points at another server, a token server that is not there) is an
// error that names the repository and the tag, never "the tag is free".
func TestExistingDigest_NotFoundOutsideTheManifestIsAnError(t *testing.T) {
	notARegistry := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notARegistry.Close)
	f := startFakeRegistry(t)
	uri := f.host + "/team/backend"
	push(t, f.creds(), uri, "v1")

	// asksForAToken answers every request with a bearer challenge whose
	// token server, on its own /token, is not there.
	asksForAToken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="fake"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(asksForAToken.Close)

	tests := []struct{ name, endpoint string }{
		{"the endpoint is not a registry", notARegistry.URL},
		{"the token server is not there", asksForAToken.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := f.creds()
			creds.Endpoint = tt.endpoint
			got, err := ecrauth.ExistingDigest(context.Background(), creds, uri, "v1")
			require.Error(t, err, "got digest %q: a 404 that is not the manifest's read as an absent tag", got)
			assert.Contains(t, err.Error(), "look up team/backend:v1")
			assert.Contains(t, err.Error(), "404")
			assert.Contains(t, err.Error(), tt.endpoint+" did not answer as a registry")
			assert.NotContains(t, err.Error(), f.password)
		})
	}
}
