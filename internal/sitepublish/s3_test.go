package sitepublish

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/teststack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { teststack.Main(m) }

// s3Env is one test's buckets on the shared versitygw, reached directly or
// through a fault proxy.
type s3Env struct {
	srv            *teststack.S3Server
	direct         *s3.Client
	proxy          *faultProxy
	site, backups  string
	viaProxyClient *s3.Client
}

func newS3Env(t *testing.T) *s3Env {
	srv := teststack.S3(t)
	e := &s3Env{srv: srv, direct: srv.Client(t), site: srv.NewBucket(t), backups: srv.NewBucket(t)}
	e.proxy = newFaultProxy(t, srv.Endpoint)
	e.viaProxyClient = s3.New(s3.Options{
		Region: srv.Region, BaseEndpoint: aws.String(e.proxy.server.URL), UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
		RetryMaxAttempts: 1, // faults reach the engine at once; the engine's own restore retries are under test
	})
	return e
}

func (e *s3Env) options(dir string) Options {
	return Options{Dir: dir, Bucket: e.site, Prefix: "www", BackupBucket: e.backups, Concurrency: 8, MaxDelete: 1000}
}

func (e *s3Env) deploy(t *testing.T, o Options) (*release.Record, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return Deploy(ctx, Clients{S3: e.viaProxyClient}, o)
}

// remoteFile is what a visitor gets for one key.
type remoteFile struct {
	Body, ContentType, CacheControl, ContentEncoding, SHA256 string
}

// snapshot GETs every object under bucket/prefix (without esteira's own).
func snapshot(t *testing.T, c *s3.Client, bucket, prefix string) map[string]remoteFile {
	t.Helper()
	ctx := context.Background()
	out := map[string]remoteFile{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.Contains(key, reservedDir) {
				continue
			}
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			require.NoError(t, err)
			b, err := io.ReadAll(g.Body)
			g.Body.Close()
			require.NoError(t, err)
			out[strings.TrimPrefix(key, prefix)] = remoteFile{Body: string(b), ContentType: aws.ToString(g.ContentType),
				CacheControl: aws.ToString(g.CacheControl), ContentEncoding: aws.ToString(g.ContentEncoding),
				SHA256: g.Metadata[metaSHA256]}
		}
	}
	return out
}

func bodies(files map[string]remoteFile) map[string]string {
	out := map[string]string{}
	for k, f := range files {
		out[k] = f.Body
	}
	return out
}

func TestDeployS3_RepublishUploadsOnlyChangedFilesNotTouchedOnes(t *testing.T) {
	e := newS3Env(t)
	dir := writeTree(t, siteV1())
	rec, err := e.deploy(t, e.options(dir))
	require.NoError(t, err)
	require.Equal(t, "succeeded", rec.Outcome)
	assert.Equal(t, 5, rec.Frontend.Uploaded)
	got := snapshot(t, e.direct, e.site, "www/")
	require.Equal(t, siteV1(), bodies(got))
	assert.Equal(t, "text/html; charset=utf-8", got["index.html"].ContentType)
	assert.Equal(t, "no-cache", got["index.html"].CacheControl)
	assert.Equal(t, "text/javascript; charset=utf-8", got["assets/app-1a2b3c4d.js"].ContentType)
	assert.Equal(t, "public, max-age=31536000, immutable", got["assets/app-1a2b3c4d.js"].CacheControl)
	assert.Len(t, got["index.html"].SHA256, 64, "content hash stored in x-amz-meta-esteira-sha256")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "about/index.html"), []byte("<html>about v2</html>"), 0o644))
	e.proxy.reset()
	rec, err = e.deploy(t, e.options(dir))
	require.NoError(t, err)
	assert.Equal(t, 1, rec.Frontend.Uploaded)
	uploads := e.proxy.changesTo(e.site, "www/")
	assert.Equal(t, []string{"upload /" + e.site + "/www/about/index.html", "upload /" + e.site + "/www/.esteira/manifest.json"}, uploads)

	future := time.Now().Add(time.Hour)
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		require.NoError(t, err)
		return os.Chtimes(p, future, future)
	}))
	e.proxy.reset()
	rec, err = e.deploy(t, e.options(dir))
	require.NoError(t, err)
	assert.Equal(t, "no-change", rec.Outcome)
	assert.Empty(t, e.proxy.changesTo(e.site, ""), "touched mtimes upload nothing")
}

func TestDeployS3_UploadsAssetsFirstIndexLastAndDeletesAfterUploads(t *testing.T) {
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	e.proxy.reset()
	_, err = e.deploy(t, e.options(writeTree(t, siteV2())))
	require.NoError(t, err)

	var order []string
	for _, l := range e.proxy.changesTo(e.site, "www/") {
		if !strings.Contains(l, reservedDir) {
			order = append(order, strings.TrimPrefix(strings.TrimPrefix(l, "upload /"+e.site+"/www/"), "/"+e.site))
		}
	}
	require.Len(t, order, 4, "%v", order)
	assert.ElementsMatch(t, []string{"assets/app-5e6f7a8b.js", "new.txt"}, order[:2], "assets first")
	assert.Equal(t, "index.html", order[2], "the root index.html after every other upload")
	assert.Equal(t, "delete ", order[3][:7], "stale files deleted only after the uploads")
	assert.Equal(t, siteV2(), bodies(snapshot(t, e.direct, e.site, "www/")))
}

func TestDeployS3_MultipartFileRoundTripsAndIsSkippedWhenUnchanged(t *testing.T) {
	e := newS3Env(t)
	big := strings.Repeat("0123456789abcdef", (int(defaultPartSize)+3*1024*1024)/16)
	dir := writeTree(t, map[string]string{"index.html": "<html></html>", "video/big.bin": big})
	rec, err := e.deploy(t, e.options(dir))
	require.NoError(t, err)
	assert.Equal(t, "succeeded", rec.Outcome)
	h, err := e.direct.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.site), Key: aws.String("www/video/big.bin")})
	require.NoError(t, err)
	assert.Contains(t, aws.ToString(h.ETag), "-", "uploaded in parts")
	assert.Equal(t, big, snapshot(t, e.direct, e.site, "www/")["video/big.bin"].Body)

	rec, err = e.deploy(t, e.options(dir))
	require.NoError(t, err)
	assert.Equal(t, "no-change", rec.Outcome)
}

func TestDeployS3_PrecompressUploadsGzipVariantsOfTextFiles(t *testing.T) {
	e := newS3Env(t)
	js := strings.Repeat("console.log('hello esteira');\n", 100)
	o := e.options(writeTree(t, map[string]string{"index.html": "<html></html>", "app.js": js, "logo.png": strings.Repeat("x", 4096)}))
	o.Precompress = []string{"gzip"}
	_, err := e.deploy(t, o)
	require.NoError(t, err)

	got := snapshot(t, e.direct, e.site, "www/")
	require.Contains(t, got, "app.js.gz")
	assert.NotContains(t, got, "index.html.gz", "below 1 KiB")
	assert.NotContains(t, got, "logo.png.gz", "not a text type")
	gz := got["app.js.gz"]
	assert.Equal(t, "gzip", gz.ContentEncoding)
	assert.Equal(t, "text/javascript; charset=utf-8", gz.ContentType)
	zr, err := gzip.NewReader(strings.NewReader(gz.Body))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, js, string(plain))

	rec, err := e.deploy(t, o)
	require.NoError(t, err)
	assert.Equal(t, "no-change", rec.Outcome, "gzip output is deterministic")
}

func TestDeployS3_KeysWithPlusSpacePercentAndUnicodeAreBackedUpAndRestored(t *testing.T) {
	e := newS3Env(t)
	v1 := map[string]string{"index.html": "<html>v1</html>", "docs/c++.html": "c++ v1", "a b+c.txt": "plus v1",
		"ü/é.js": "unicode v1", "x%20y.css": "percent v1", "q?&=#.txt": "query v1"}
	_, err := e.deploy(t, e.options(writeTree(t, v1)))
	require.NoError(t, err)
	before := snapshot(t, e.direct, e.site, "www/")
	require.Equal(t, v1, bodies(before))
	v2 := map[string]string{}
	for rel, body := range v1 {
		v2[rel] = strings.ReplaceAll(body, "v1", "v2")
	}

	rec, err := e.deploy(t, e.options(writeTree(t, v2)))
	require.NoError(t, err, "the backup copies every key, whatever its characters")
	require.Equal(t, "succeeded", rec.Outcome)
	rb, err := Rollback(context.Background(), Clients{S3: e.viaProxyClient}, RollbackOptions{Bucket: e.site, Prefix: "www",
		BackupBucket: e.backups, Backup: rec.Frontend.BackupURI})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", rb.Outcome)
	assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"), "copied back under the same keys")
}

func TestRollbackS3_MultipartFileIsBackedUpAndCopiedBackByteIdentical(t *testing.T) {
	e := newS3Env(t)
	part := int(defaultPartSize) + 1024*1024
	v1 := map[string]string{"index.html": "<html>v1</html>", "video/big.bin": strings.Repeat("v1-bytes", part/8)}
	_, err := e.deploy(t, e.options(writeTree(t, v1)))
	require.NoError(t, err)
	before := snapshot(t, e.direct, e.site, "www/")
	v2 := map[string]string{"index.html": "<html>v2</html>", "video/big.bin": strings.Repeat("v2-bytes", part/8)}
	rec, err := e.deploy(t, e.options(writeTree(t, v2)))
	require.NoError(t, err)
	require.Equal(t, v2, bodies(snapshot(t, e.direct, e.site, "www/")))

	rb, err := Rollback(context.Background(), Clients{S3: e.viaProxyClient}, RollbackOptions{Bucket: e.site, Prefix: "www",
		BackupBucket: e.backups, Backup: rec.Frontend.BackupURI})
	require.NoError(t, err)
	assert.Equal(t, 2, rb.Frontend.Uploaded, "both files copied back")
	assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"))
}

func TestS3Store_ListByFoldersEqualsOneFlatListing(t *testing.T) {
	srv := teststack.S3(t)
	c, bucket := srv.Client(t), srv.NewBucket(t)
	keys := []string{"root.txt", "www/index.html", "www/only/one/deep/a.js", "www/only/one/b.js", "www/x/1", "www/y/2", "www/y/z/3", "www/.esteira/manifest.json"}
	for i := range 30 {
		keys = append(keys, fmt.Sprintf("www/d%02d/f%d.css", i%7, i))
	}
	for _, k := range keys {
		_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)})
		require.NoError(t, err)
	}
	st := newS3Store(c, 0)
	for _, prefix := range []string{"", "www/", "www/only/", "www/y/", "nothing/"} {
		got, err := st.List(context.Background(), bucket, prefix)
		require.NoError(t, err)
		var flat []object
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(5)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			require.NoError(t, err)
			for _, o := range page.Contents {
				flat = append(flat, object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: cleanETag(o.ETag), Modified: aws.ToTime(o.LastModified)})
			}
		}
		assert.Equal(t, flat, got, "prefix %q", prefix)
	}
}
