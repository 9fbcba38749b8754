package sitepublish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What a deploy published downloads back to the same build, gzip variants
// left out, so a promotion publishes exactly what passed: same digest.
func TestDownload_GivesBackTheBuildADeployPublished(t *testing.T) {
	e := newS3Env(t)
	o := e.options(writeTree(t, map[string]string{"index.html": "<html>x</html>", "assets/app.js": strings.Repeat("console.log(1);\n", 200),
		"data/archive.gz": "user's own gzip file"}))
	o.Precompress = []string{"gzip"}
	rec, err := Deploy(t.Context(), Clients{S3: e.direct}, o)
	require.NoError(t, err)
	require.NotEmpty(t, rec.Frontend.BuildDigest)
	assert.Contains(t, e.keys(t, e.site, "www/"), "www/assets/app.js.gz", "the publish added a variant")

	dir := t.TempDir()
	require.NoError(t, Download(t.Context(), Clients{S3: e.direct}, e.site, "www", dir, 4))
	got, err := BuildDigest(t.Context(), Options{Dir: dir, Bucket: "x"})
	require.NoError(t, err)
	assert.Equal(t, rec.Frontend.BuildDigest, got)

	require.ErrorContains(t, Download(t.Context(), Clients{S3: e.direct}, e.site, "nothing-here", t.TempDir(), 4), "is empty")
}

// A build may hold its own x.gz next to x: that is a file of the build, not
// a variant esteira added, so the download keeps it and the digest matches.
// Only esteira's variants (Content-Encoding gzip) are left out.
func TestDownload_KeepsTheBuildsOwnGzipFileNextToItsBase(t *testing.T) {
	e := newS3Env(t)
	csv := strings.Repeat("id,name\n1,esteira\n", 100)
	o := e.options(writeTree(t, map[string]string{"index.html": "<html>x</html>", "data.csv": csv,
		"data.csv.gz": "the build's own archive of data.csv", "assets/app.js": strings.Repeat("console.log(1);\n", 200)}))
	o.Precompress = []string{"gzip"}
	rec, err := Deploy(t.Context(), Clients{S3: e.direct}, o)
	require.NoError(t, err)
	published := e.keys(t, e.site, "www/")
	require.Contains(t, published, "www/data.csv.gz")
	require.Contains(t, published, "www/assets/app.js.gz", "esteira added a variant of app.js")

	dir := t.TempDir()
	require.NoError(t, Download(t.Context(), Clients{S3: e.direct}, e.site, "www", dir, 4))
	got, err := BuildDigest(t.Context(), Options{Dir: dir, Bucket: "x"})
	require.NoError(t, err)
	assert.Equal(t, rec.Frontend.BuildDigest, got, "the download is the build, its own data.csv.gz included")
	own, err := os.ReadFile(filepath.Join(dir, "data.csv.gz"))
	require.NoError(t, err)
	assert.Equal(t, "the build's own archive of data.csv", string(own))
	assert.NoFileExists(t, filepath.Join(dir, "assets", "app.js.gz"), "esteira's own variant is not part of the build")
}
