package sitepublish

import (
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
