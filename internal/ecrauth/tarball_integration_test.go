package ecrauth_test

import (
	"testing"

	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The digest read from an image's OCI tarball before the push is the digest
// the real registry reports for the tag after pushing that tarball's content,
// for one image and for a multi-platform index: the immutable-tag check
// compares the two.
func TestManifestDigestOfOCITarball_IsWhatTheRegistryReportsAfterPush(t *testing.T) {
	s := newStack(t)
	creds, err := ecrauth.Login(s.ctx, s.ecr, "")
	require.NoError(t, err)
	uri, err := ecrauth.ResolveRepository(s.ctx, s.ecr, s.repo)
	require.NoError(t, err)

	img, err := random.Image(512, 2)
	require.NoError(t, err)
	idx, err := random.Index(256, 1, 2)
	require.NoError(t, err)
	tests := []struct {
		name  string
		write func(layout.Path) error
	}{
		{"image", func(p layout.Path) error { return p.AppendImage(img) }},
		{"index", func(p layout.Path) error { return p.AppendIndex(idx) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := layout.Write(dir, empty.Index)
			require.NoError(t, err)
			require.NoError(t, tt.write(p))
			before, err := ecrauth.ManifestDigestOfOCITarball(tarDir(t, dir, true))
			require.NoError(t, err)

			pushLayout(t, creds, uri, tt.name, p)
			after, err := ecrauth.ExistingDigest(s.ctx, creds, uri, tt.name)
			require.NoError(t, err)
			assert.Equal(t, before, after)
		})
	}
}

// pushLayout pushes the one image or index of an OCI layout to uri:tag.
func pushLayout(t *testing.T, creds *ecrauth.Credentials, uri, tag string, p layout.Path) {
	t.Helper()
	root, err := p.ImageIndex()
	require.NoError(t, err)
	m, err := root.IndexManifest()
	require.NoError(t, err)
	require.Len(t, m.Manifests, 1)
	desc := m.Manifests[0]
	ref, auth := tagRef(t, uri, tag), remote.WithAuth(basicAuth(creds))
	if desc.MediaType.IsIndex() {
		idx, err := root.ImageIndex(desc.Digest)
		require.NoError(t, err)
		require.NoError(t, remote.WriteIndex(ref, idx, auth))
		return
	}
	img, err := root.Image(desc.Digest)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, auth))
}
