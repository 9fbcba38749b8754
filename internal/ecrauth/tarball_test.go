package ecrauth_test

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ociTarball writes imgs as an OCI image layout and tars it up, as Dagger's
// Container.AsTarball does, optionally gzipped.
func ociTarball(t *testing.T, gzipped bool, imgs ...v1.Image) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	require.NoError(t, err)
	for _, img := range imgs {
		require.NoError(t, p.AppendImage(img))
	}
	return tarDir(t, dir, gzipped)
}

// tarDir tars up the files of dir, optionally gzipped, and returns the tarball's path.
func tarDir(t *testing.T, dir string, gzipped bool) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(out)
	require.NoError(t, err)
	defer f.Close()
	var w io.Writer = f
	if gzipped {
		gz := gzip.NewWriter(f)
		defer gz.Close()
		w = gz
	}
	tw := tar.NewWriter(w)
	defer tw.Close()
	require.NoError(t, tw.AddFS(os.DirFS(dir)))
	return out
}

func TestManifestDigestOfOCITarball_IsTheImagesDigest(t *testing.T) {
	img, err := random.Image(1024, 3)
	require.NoError(t, err)
	want, err := img.Digest()
	require.NoError(t, err)

	for _, gz := range []bool{false, true} {
		got, err := ecrauth.ManifestDigestOfOCITarball(ociTarball(t, gz, img))
		require.NoError(t, err, "gzipped=%v", gz)
		assert.Equal(t, want.String(), got, "gzipped=%v", gz)
	}
}

func TestManifestDigestOfOCITarball_RefusesWhatIsNotOneOCIImage(t *testing.T) {
	a, err := random.Image(64, 1)
	require.NoError(t, err)
	b, err := random.Image(64, 1)
	require.NoError(t, err)

	dockerTar := filepath.Join(t.TempDir(), "docker.tar")
	require.NoError(t, tarball.WriteToFile(dockerTar, name.MustParseReference("example.com/app:v1"), a))

	notTar := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(notTar, []byte("hello, this is not a tarball at all, just some text for the reader"), 0o644))

	tests := []struct{ name, path, want string }{
		{"docker save format", dockerTar, "no index.json: not an OCI image layout"},
		{"malformed digest", tarDir(t, layoutWithDigest(t, "sha256:abc"), false), "read index.json of"},
		{"sha512 digest", tarDir(t, layoutWithDigest(t, "sha512:"+strings.Repeat("a", 128)), false), "is not sha256"},
		{"index.json not JSON", tarDir(t, notJSONLayout(t), false), "read index.json of"},
		{"two images", ociTarball(t, false, a, b), "it lists 2 manifests, want exactly 1"},
		{"missing file", filepath.Join(t.TempDir(), "nope.tar"), "read image tarball"},
		{"not a tarball", notTar, "read image tarball"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ecrauth.ManifestDigestOfOCITarball(tt.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func notJSONLayout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.json"), []byte("not json"), 0o644))
	return dir
}

// layoutWithDigest is a layout whose index.json names one manifest by digest.
func layoutWithDigest(t *testing.T, digest string) string {
	t.Helper()
	dir := t.TempDir()
	index := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + digest + `","size":1}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644))
	return dir
}
