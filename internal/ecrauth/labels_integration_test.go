package ecrauth_test

import (
	"testing"

	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A rebuild of the same source differs in its digest but carries the same
// source label: ImageLabels must read it back from the real registry, by
// tag and by digest.
func TestImageLabels_ReadsTheSourceLabelOfAPushedImage(t *testing.T) {
	s := newStack(t)
	creds, err := ecrauth.Login(s.ctx, s.ecr, "")
	require.NoError(t, err)
	assert.True(t, creds.PlainHTTP, "the simulator's proxyEndpoint says http://")
	uri, err := ecrauth.ResolveRepository(s.ctx, s.ecr, s.repo)
	require.NoError(t, err)

	base, err := random.Image(256, 1)
	require.NoError(t, err)
	cfg, err := base.ConfigFile()
	require.NoError(t, err)
	cfg.Config.Labels = map[string]string{ecrauth.SourceLabel: "sha256:abc", "other": "x"}
	img, err := mutate.Config(base, cfg.Config)
	require.NoError(t, err)
	pushImage(t, creds, uri, "v1", img)
	digest, err := img.Digest()
	require.NoError(t, err)

	for _, ref := range []string{"v1", digest.String()} {
		labels, err := ecrauth.ImageLabels(s.ctx, creds, uri, ref)
		require.NoError(t, err, ref)
		assert.Equal(t, "sha256:abc", labels[ecrauth.SourceLabel], ref)
	}
	_, err = ecrauth.ImageLabels(s.ctx, creds, uri, "never-pushed")
	assert.ErrorContains(t, s.seen(err), "never-pushed")
}

// Credentials keep what the token's proxyEndpoint said about the scheme, and
// Endpoint overrides where requests go (the sandbox's service address).
func TestCredentials_BaseURL(t *testing.T) {
	cases := []struct {
		creds ecrauth.Credentials
		want  string
	}{
		{ecrauth.Credentials{Registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com"}, "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
		{ecrauth.Credentials{Registry: "127.0.0.1:5000"}, "http://127.0.0.1:5000"},
		{ecrauth.Credentials{Registry: "registry.internal:5000", PlainHTTP: true}, "http://registry.internal:5000"},
		{ecrauth.Credentials{Registry: "localhost:4566", Endpoint: "http://abc.dagger.local:4566/"}, "http://abc.dagger.local:4566"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.creds.BaseURL(), c.creds.Registry)
	}
}
