package ecrauth_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRegistry is go-containerregistry's in-memory registry behind basic
// auth, over httptest: user AWS may read and write with password, user
// "nopull" is known but forbidden (HTTP 403, as ECR answers a role without
// pull rights). quirk, when set, may answer a request itself (returning
// true), with the registry as inner, to play a registry that bends the
// distribution spec.
type fakeRegistry struct {
	host     string
	password string
	quirk    atomic.Pointer[quirk]
	gets     atomic.Int64 // manifest GETs served
	requests atomic.Int64 // every request
	bearer   atomic.Bool  // challenge for a token from /token, as Docker Hub or GHCR do
}

const fakeToken = "fake-registry-token"

// bearerAuthorized plays a token server on /token (basic auth in, a token
// out) and lets through a request with that token; else it challenges.
func (f *fakeRegistry) bearerAuthorized(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path == "/token" {
		if user, pass, ok := r.BasicAuth(); !ok || user != "AWS" || pass != f.password {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"wrong credentials"}]}`, http.StatusUnauthorized)
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token":"` + fakeToken + `"}`))
		return false
	}
	if r.Header.Get("Authorization") == "Bearer "+fakeToken {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+f.host+`/token",service="fake"`)
	http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
	return false
}

type quirk func(inner http.Handler, w http.ResponseWriter, r *http.Request) bool

const fakePassword = "eyJmYWtlIjoicmVnaXN0cnkgcGFzc3dvcmQifQ=="

func startFakeRegistry(t *testing.T) *fakeRegistry {
	t.Helper()
	f := &fakeRegistry{password: fakePassword}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if f.bearer.Load() && !f.bearerAuthorized(w, r) {
			return
		}
		user, pass, ok := r.BasicAuth()
		switch {
		case f.bearer.Load():
		case !ok || (user == "AWS" && pass != f.password):
			w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		case user == "nopull":
			http.Error(w, `{"errors":[{"code":"DENIED","message":"not authorized to pull"}]}`, http.StatusForbidden)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") {
			f.gets.Add(1)
		}
		if q := f.quirk.Load(); q != nil && *q != nil && (*q)(inner, w, r) {
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

func (f *fakeRegistry) creds() *ecrauth.Credentials {
	return &ecrauth.Credentials{Registry: f.host, Username: "AWS", Password: f.password, PlainHTTP: true}
}

// withoutDigestHeader serves r through inner but drops Docker-Content-Digest,
// as a registry may on a manifest HEAD (or on both HEAD and GET).
func withoutDigestHeader(methods ...string) quirk {
	return func(inner http.Handler, w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") || !contains(methods, r.Method) {
			return false
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			if k != "Docker-Content-Digest" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return true
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ExistingDigest must find the digest of a tag however the registry answers a
// HEAD: without the digest header, or not at all.
func TestExistingDigest_FallsBackToGetWhenHeadSaysNoDigest(t *testing.T) {
	f := startFakeRegistry(t)
	uri := f.host + "/team/backend"
	want := push(t, f.creds(), uri, "v1")
	tests := []struct {
		name  string
		quirk quirk
	}{
		{"HEAD without the digest header", withoutDigestHeader(http.MethodHead)},
		{"no digest header at all: the manifest is hashed", withoutDigestHeader(http.MethodHead, http.MethodGet)},
		{"HEAD not allowed", func(_ http.Handler, w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodHead {
				return false
			}
			w.WriteHeader(http.StatusMethodNotAllowed)
			return true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.quirk.Store(&tt.quirk)
			t.Cleanup(func() { f.quirk.Store(nil) })
			before := f.gets.Load()
			got, err := ecrauth.ExistingDigest(context.Background(), f.creds(), uri, "v1")
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Greater(t, f.gets.Load(), before, "the digest came from a GET")
		})
	}
}

// A registry that refuses the credentials gets an error that names the
// registry, the user and what to do, for a wrong password (401) and for a
// user without pull rights (403), on every read.
func TestRegistryReads_RefusedCredentialsSayWhatToDo(t *testing.T) {
	f := startFakeRegistry(t)
	uri := f.host + "/team/backend"
	push(t, f.creds(), uri, "v1")
	stale := f.creds()
	stale.Password += "-stale"
	nopull := f.creds()
	nopull.Username = "nopull"
	reads := map[string]func(*ecrauth.Credentials) error{
		"existing digest": func(c *ecrauth.Credentials) error {
			_, err := ecrauth.ExistingDigest(context.Background(), c, uri, "v1")
			return err
		},
		"labels": func(c *ecrauth.Credentials) error {
			_, err := ecrauth.ImageLabels(context.Background(), c, uri, "v1")
			return err
		},
	}
	for read, do := range reads {
		for _, tt := range []struct {
			creds *ecrauth.Credentials
			want  string
		}{
			{stale, "registry " + f.host + " refused the credentials for user AWS (HTTP 401): log in again"},
			{nopull, "registry " + f.host + " refused the credentials for user nopull (HTTP 403): log in again"},
		} {
			t.Run(read+" as "+tt.creds.Username, func(t *testing.T) {
				err := do(tt.creds)
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				assert.Contains(t, err.Error(), "check the role may pull from team/backend")
				assert.NotContains(t, err.Error(), f.password)
			})
		}
	}
}

// In the sandbox image references name the registry localhost:4566 while
// this process reaches it at the sandbox's service address
// (Credentials.Endpoint): every read goes to the endpoint.
func TestRegistryReads_GoToTheEndpointWhenSet(t *testing.T) {
	f := startFakeRegistry(t)
	want := labelledImage(t, map[string]string{ecrauth.SourceLabel: "sha256:src"})
	pushImage(t, f.creds(), f.host+"/team/backend", "v1", want)
	digest, err := want.Digest()
	require.NoError(t, err)

	creds := f.creds()
	creds.Registry = "registry.invalid:4566" // resolves nowhere: a request sent there fails
	creds.Endpoint = "http://" + f.host + "/"
	uri := creds.Registry + "/team/backend"
	got, err := ecrauth.ExistingDigest(context.Background(), creds, uri, "v1")
	require.NoError(t, err)
	assert.Equal(t, digest.String(), got)
	labels, err := ecrauth.ImageLabels(context.Background(), creds, uri, got)
	require.NoError(t, err)
	assert.Equal(t, "sha256:src", labels[ecrauth.SourceLabel])
	missing, err := ecrauth.ExistingDigest(context.Background(), creds, uri, "v2")
	require.NoError(t, err)
	assert.Empty(t, missing, "a tag never pushed does not exist")
}

// A multi-platform image is an index: its labels are those of its first image.
func TestImageLabels_ReadsTheFirstImageOfAnIndex(t *testing.T) {
	f := startFakeRegistry(t)
	uri := f.host + "/team/backend"
	amd := labelledImage(t, map[string]string{ecrauth.SourceLabel: "sha256:src", "arch": "amd64"})
	arm := labelledImage(t, map[string]string{ecrauth.SourceLabel: "sha256:src", "arch": "arm64"})
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	ref := tagRef(t, uri, "v1")
	require.NoError(t, remote.WriteIndex(ref, idx, remote.WithAuth(basicAuth(f.creds()))))
	digest, err := idx.Digest()
	require.NoError(t, err)

	for _, reference := range []string{"v1", digest.String()} {
		labels, err := ecrauth.ImageLabels(context.Background(), f.creds(), uri, reference)
		require.NoError(t, err, reference)
		assert.Equal(t, map[string]string{ecrauth.SourceLabel: "sha256:src", "arch": "amd64"}, labels, reference)
	}
	got, err := ecrauth.ExistingDigest(context.Background(), f.creds(), uri, "v1")
	require.NoError(t, err)
	assert.Equal(t, digest.String(), got, "the tag points at the index, not at one of its images")
}

// ImageLabels, like ExistingDigest, refuses a repository of another registry
// than the credentials' instead of sending them there.
func TestImageLabels_BadInputIsRefusedBeforeAskingTheRegistry(t *testing.T) {
	f := startFakeRegistry(t)
	tests := []struct {
		name, uri, want string
		creds           *ecrauth.Credentials
	}{
		{"no credentials", f.host + "/team/backend", "log in first", nil},
		{"not host/name", "backend", `repository URI "backend" is not host/name`, f.creds()},
		{"another registry", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/backend", "the credentials are for registry " + f.host, f.creds()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.requests.Load()
			_, err := ecrauth.ImageLabels(context.Background(), tt.creds, tt.uri, "v1")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, before, f.requests.Load(), "the registry was not asked")
		})
	}
}

func labelledImage(t *testing.T, labels map[string]string) v1.Image {
	t.Helper()
	base, err := random.Image(128, 1)
	require.NoError(t, err)
	cfg, err := base.ConfigFile()
	require.NoError(t, err)
	cfg.Config.Labels = labels
	img, err := mutate.Config(base, cfg.Config)
	require.NoError(t, err)
	return img
}

// Registries that answer with a bearer challenge (a token server taking the
// basic credentials) are read the same way, and a refused password says so.
func TestRegistryReads_AnswerABearerChallenge(t *testing.T) {
	f := startFakeRegistry(t)
	uri := f.host + "/team/backend"
	img := labelledImage(t, map[string]string{ecrauth.SourceLabel: "sha256:src"})
	pushImage(t, f.creds(), uri, "v1", img)
	want, err := img.Digest()
	require.NoError(t, err)
	f.bearer.Store(true)

	got, err := ecrauth.ExistingDigest(context.Background(), f.creds(), uri, "v1")
	require.NoError(t, err)
	assert.Equal(t, want.String(), got)
	labels, err := ecrauth.ImageLabels(context.Background(), f.creds(), uri, "v1")
	require.NoError(t, err)
	assert.Equal(t, "sha256:src", labels[ecrauth.SourceLabel])

	stale := f.creds()
	stale.Password += "-stale"
	_, err = ecrauth.ExistingDigest(context.Background(), stale, uri, "v1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refused the credentials for user AWS (HTTP 401)")
	assert.NotContains(t, err.Error(), f.password)
}

// A registry that never answers holds a read only until the caller's
// deadline (ci/ sets one per call), on every read.
func TestRegistryReads_StopAtTheCallersDeadline(t *testing.T) {
	f := startFakeRegistry(t)
	uri := f.host + "/team/backend"
	push(t, f.creds(), uri, "v1")
	var hang quirk = func(_ http.Handler, _ http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	}
	f.quirk.Store(&hang)
	t.Cleanup(func() { f.quirk.Store(nil) })
	reads := map[string]func(context.Context) error{
		"existing digest": func(ctx context.Context) error {
			_, err := ecrauth.ExistingDigest(ctx, f.creds(), uri, "v1")
			return err
		},
		"labels": func(ctx context.Context) error {
			_, err := ecrauth.ImageLabels(ctx, f.creds(), uri, "v1")
			return err
		},
	}
	for read, do := range reads {
		t.Run(read, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := do(ctx)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Contains(t, err.Error(), "team/backend:v1")
			assert.Less(t, time.Since(start), 5*time.Second, "the read gave up at the deadline, not after retries")
		})
	}
}
