package sitepublish

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The content store of the tests' backups (BackupPrefix defaults to the
// site's prefix).
func storedKey(body string) string { return contentPrefix + hashBytes([]byte(body)) }

// rewriteKeeping replaces the bytes of bucket/key with body (the same size)
// and keeps its headers and metadata, x-amz-meta-esteira-sha256 included:
// what someone changing a stored object would do to go unnoticed. With
// sha256 the writer also asks S3 for a SHA-256 checksum (of its new bytes).
func rewriteKeeping(t *testing.T, c *s3.Client, bucket, key, body string, sha256 bool) {
	t.Helper()
	ctx := context.Background()
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	require.Equal(t, int64(len(body)), aws.ToInt64(h.ContentLength), "the same size")
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body),
		ContentType: h.ContentType, CacheControl: h.CacheControl, ContentEncoding: h.ContentEncoding, Metadata: h.Metadata}
	if sha256 {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
	}
	_, err = c.PutObject(ctx, in)
	require.NoError(t, err)
}

func getBody(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	g, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	defer g.Body.Close()
	b, err := io.ReadAll(g.Body)
	require.NoError(t, err)
	return string(b)
}

func (e *s3Env) rollback(t *testing.T, backup string, out *bytes.Buffer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Rollback(ctx, Clients{S3: e.viaProxyClient}, RollbackOptions{Bucket: e.site, Prefix: "www",
		BackupBucket: e.backups, Backup: backup, Out: out})
	return err
}

const aboutV1 = "<html>about v1</html>"

// siteV2NewPages is siteV2 with about/index.html (unchanged since v1) and the root
// index.html changed: a release that overwrites a page whose bytes the
// content store has held since the first backup.
func siteV2NewPages() map[string]string {
	v3 := siteV2()
	v3["about/index.html"] = "<html>about v3</html>"
	v3["index.html"] = "<html>v3</html>"
	return v3
}

func TestDeployS3_TamperedStoredContentIsCopiedAgainByTheNextBackupThatNeedsIt(t *testing.T) {
	for _, withSHA := range []bool{false, true} {
		t.Run(map[bool]string{false: "rewritten without a checksum", true: "rewritten with its own SHA-256"}[withSHA], func(t *testing.T) {
			e := newS3Env(t)
			_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
			require.NoError(t, err)
			_, err = e.deploy(t, e.options(writeTree(t, siteV2())))
			require.NoError(t, err)
			v2 := snapshot(t, e.direct, e.site, "www/")
			rewriteKeeping(t, e.direct, e.backups, storedKey(aboutV1), "<html>ABOUT V1</html>", withSHA)

			rec, err := e.deploy(t, e.options(writeTree(t, siteV2NewPages())))
			require.NoError(t, err)
			require.Equal(t, "succeeded", rec.Outcome)
			assert.Equal(t, aboutV1, getBody(t, e.direct, e.backups, storedKey(aboutV1)),
				"the backup copied the live page's bytes into the store again")

			var out bytes.Buffer
			require.NoError(t, e.rollback(t, rec.Frontend.BackupURI, &out), out.String())
			assert.Equal(t, v2, snapshot(t, e.direct, e.site, "www/"), "the rollback put back the site as it was, byte for byte")
		})
	}
}

func TestRollbackS3_OntoTamperedContentStopsBeforeAnyChangeAndSoDoesItsRerun(t *testing.T) {
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	rec, err := e.deploy(t, e.options(writeTree(t, siteV2())))
	require.NoError(t, err)
	v2 := snapshot(t, e.direct, e.site, "www/")
	rewriteKeeping(t, e.direct, e.backups, storedKey("<html>v1</html>"), "<html>V1</html>", false)

	for attempt := 1; attempt <= 2; attempt++ {
		var out bytes.Buffer
		err = e.rollback(t, rec.Frontend.BackupURI, &out)
		require.Error(t, err, "attempt %d: %s", attempt, out.String())
		assert.ErrorIs(t, err, errIntegrity)
		assert.Contains(t, err.Error(), "index.html (stored as", "names the path whose bytes differ")
		assert.Contains(t, err.Error(), "nothing was changed")
		assert.Equal(t, v2, snapshot(t, e.direct, e.site, "www/"), "attempt %d: the site is untouched", attempt)
	}
}

// What a rollback of an earlier esteira left: the changed bytes live, with
// the metadata that claims they are the recorded ones. Rerun, the rollback
// must see the bytes, not the metadata, and never report success.
func TestRollbackS3_RerunOverChangedBytesAlreadyLiveNeverReportsSuccess(t *testing.T) {
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	rec, err := e.deploy(t, e.options(writeTree(t, siteV2())))
	require.NoError(t, err)
	stored := storedKey("<html>v1</html>")
	rewriteKeeping(t, e.direct, e.backups, stored, "<html>V1</html>", false)
	_, err = e.direct.CopyObject(context.Background(), &s3.CopyObjectInput{Bucket: aws.String(e.site), Key: aws.String("www/index.html"),
		CopySource: aws.String(e.backups + "/" + stored)})
	require.NoError(t, err)

	var out bytes.Buffer
	err = e.rollback(t, rec.Frontend.BackupURI, &out)
	require.Error(t, err, out.String())
	assert.ErrorIs(t, err, errIntegrity)
	assert.Contains(t, err.Error(), "index.html")
	assert.Equal(t, "<html>V1</html>", snapshot(t, e.direct, e.site, "www/")["index.html"].Body, "nothing else was changed")
}

// publishFailsAfterAbout makes the publish of siteV2NewPages fail: the backup's
// manifest and about/index.html are uploaded, then the upload of the root
// index.html gets a 503.
func (e *s3Env) publishFailsAfterAbout() {
	e.proxy.mu.Lock()
	defer e.proxy.mu.Unlock()
	e.proxy.puts, e.proxy.failAfterPuts, e.proxy.outage = 0, 2, 1
}

func TestDeployS3_FailedPublishRestoresTheRecordedBytesThoughAStoredCopyWasChanged(t *testing.T) {
	restoreBackoff = 10 * time.Millisecond
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	_, err = e.deploy(t, e.options(writeTree(t, siteV2())))
	require.NoError(t, err)
	v2 := snapshot(t, e.direct, e.site, "www/")
	rewriteKeeping(t, e.direct, e.backups, storedKey(aboutV1), "<html>ABOUT V1</html>", false)
	e.publishFailsAfterAbout()

	var out bytes.Buffer
	o := e.options(writeTree(t, siteV2NewPages()))
	o.Out, o.ListFiles = &out, true
	rec, err := e.deploy(t, o)
	require.Error(t, err)
	require.Equal(t, "rolled-back", rec.Outcome, out.String())
	assert.Contains(t, out.String(), "restored about/index.html")
	assert.Equal(t, v2, snapshot(t, e.direct, e.site, "www/"), "restored and verified identical means the recorded bytes")
}

func TestDeployS3_RestoreThatCannotProduceTheRecordedBytesStopsAtOnceNamingThem(t *testing.T) {
	restoreBackoff = 10 * time.Millisecond
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	_, err = e.deploy(t, e.options(writeTree(t, siteV2())))
	require.NoError(t, err)
	// The stored copy changes after the backup checked it, as the publish
	// uploads the new about page; then the publish fails.
	e.proxy.mu.Lock()
	e.proxy.beforeUpload = func(path string) {
		if strings.HasSuffix(path, "/www/about/index.html") {
			rewriteKeeping(t, e.direct, e.backups, storedKey(aboutV1), "<html>ABOUT V1</html>", false)
		}
	}
	e.proxy.mu.Unlock()
	e.publishFailsAfterAbout()

	var out bytes.Buffer
	o := e.options(writeTree(t, siteV2NewPages()))
	o.Out = &out
	rec, err := e.deploy(t, o)
	require.Error(t, err)
	assert.ErrorIs(t, err, errIntegrity)
	assert.Equal(t, "failed", rec.Outcome, "never reported as restored: %s", out.String())
	assert.Contains(t, err.Error(), "about/index.html (stored as")
	assert.NotContains(t, err.Error(), "verified identical")
	assert.NotContains(t, out.String(), "restore attempt 1 failed", "no retry: the stored bytes will not change back")
	assert.Equal(t, "<html>about v3</html>", snapshot(t, e.direct, e.site, "www/")["about/index.html"].Body,
		"the changed stored bytes were never put live")
}

// A live object rewritten with other bytes but the same metadata is not
// taken for the build's file: the next release puts the build's bytes back.
func TestDeployS3_LiveObjectRewrittenWithItsMetadataKeptIsUploadedAgain(t *testing.T) {
	e := newS3Env(t)
	dir := writeTree(t, siteV1())
	_, err := e.deploy(t, e.options(dir))
	require.NoError(t, err)
	rewriteKeeping(t, e.direct, e.site, "www/about/index.html", "<html>ABOUT v1</html>", false)

	rec, err := e.deploy(t, e.options(dir))
	require.NoError(t, err)
	assert.Equal(t, "succeeded", rec.Outcome)
	assert.Equal(t, 1, rec.Frontend.Uploaded)
	assert.Equal(t, siteV1(), bodies(snapshot(t, e.direct, e.site, "www/")))
}
