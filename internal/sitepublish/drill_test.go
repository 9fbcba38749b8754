package sitepublish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigSite is a site of n assets plus HTML, with content depending on version.
func bigSite(n int, version string) map[string]string {
	files := map[string]string{"index.html": "<html>" + version + "</html>", "docs/index.html": "docs " + version}
	for i := range n {
		files[fmt.Sprintf("assets/file%03d.js", i)] = fmt.Sprintf("/* %s */ var x = %d;", version, i)
	}
	files["only-in-"+version+".txt"] = version
	return files
}

func TestDeployS3_ServerOutageMidUploadRestoresSiteByteIdentical(t *testing.T) {
	restoreBackoff = 10 * time.Millisecond
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, bigSite(40, "v1"))))
	require.NoError(t, err)
	before := snapshot(t, e.direct, e.site, "www/")

	e.proxy.mu.Lock()
	e.proxy.puts, e.proxy.failAfterPuts, e.proxy.outage = 0, 10, 6
	e.proxy.mu.Unlock()
	var out bytes.Buffer
	o := e.options(writeTree(t, bigSite(40, "v2")))
	o.Concurrency, o.Out, o.ListFiles = 4, &out, true
	rec, err := e.deploy(t, o)

	require.Error(t, err)
	e.proxy.mu.Lock()
	assert.Zero(t, e.proxy.outage, "the whole outage was injected")
	e.proxy.mu.Unlock()
	assert.Contains(t, err.Error(), "restored from")
	assert.Equal(t, "rolled-back", rec.Outcome)
	assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"), "site byte-identical (bodies and headers) to the backup")
	assert.Contains(t, out.String(), "restored assets/", "the restore had new files to put back")
	assert.Contains(t, out.String(), "==> restore")
}

func TestDeployS3_BackupThatDoesNotVerifyStopsWithNothingChanged(t *testing.T) {
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	before := snapshot(t, e.direct, e.site, "www/")
	e.proxy.reset()
	e.proxy.swallowCopies = true // the server answers 200 to CopyObject but copies nothing

	rec, err := e.deploy(t, e.options(writeTree(t, siteV2())))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the backup failed, so the site was not changed")
	assert.ErrorIs(t, err, errVerify)
	assert.Contains(t, err.Error(), "missing")
	assert.Equal(t, "failed", rec.Outcome)
	assert.Empty(t, e.proxy.changesTo(e.site, ""), "nothing uploaded or deleted on the site")
	assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"))
}

func TestDeployS3_MaxDeleteExceededIsRefusedBeforeAnyChange(t *testing.T) {
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	e.proxy.reset()
	o := e.options(writeTree(t, map[string]string{"index.html": "new"}))
	o.MaxDelete = 3

	_, err = e.deploy(t, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "would delete 4 objects")
	assert.Empty(t, e.proxy.changesTo(e.site, ""))
	assert.Empty(t, e.proxy.changesTo(e.backups, ""), "not even a backup was taken")
}

func TestDeployS3_SitePublishedByAnotherToolIsHashedByReading(t *testing.T) {
	e := newS3Env(t)
	for rel, body := range siteV1() {
		_, err := e.direct.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(e.site),
			Key: aws.String("www/" + rel), Body: strings.NewReader(body), ContentType: aws.String(contentType(rel))})
		require.NoError(t, err)
	}
	o := e.options(writeTree(t, siteV1()))
	o.CacheControl = []CacheRule{} // no rules: headers equal what the other tool wrote

	rec, err := e.deploy(t, o)
	require.NoError(t, err)
	assert.Equal(t, "no-change", rec.Outcome, "identical bytes are recognised without esteira's metadata")
	assert.Equal(t, 5, rec.Frontend.Skipped)
}

func TestDeployS3_BackupIsTheWholeSiteWithHeadersAndMetadata(t *testing.T) {
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	v1 := snapshot(t, e.direct, e.site, "www/")
	rec, err := e.deploy(t, e.options(writeTree(t, siteV2())))
	require.NoError(t, err)

	bak := strings.TrimPrefix(rec.Frontend.BackupURI, "s3://"+e.backups+"/")
	m, err := loadManifest(context.Background(), newS3Store(e.direct, 0), newLocation(e.backups, bak))
	require.NoError(t, err)
	assert.True(t, m.Backup)
	assert.Equal(t, "www/.esteira/content/", m.Content)
	require.Len(t, m.Objects, len(v1), "the manifest records every object of the live site")
	stored := snapshot(t, e.direct, e.backups, "")
	for rel, f := range v1 {
		e := m.Objects[rel]
		assert.Equal(t, f.SHA256, e.SHA256, rel)
		assert.Equal(t, f.ContentType+"\n"+f.CacheControl+"\n"+f.ContentEncoding, e.Headers, "%s: headers recorded", rel)
		assert.Empty(t, stored[rel], "%s: bytes are not copied per path", rel)
	}
	content := contentObjects(t, e.direct, e.backups, "www/.esteira/content/")
	assert.Len(t, content, distinct(bodies(v1)), "one object per distinct content")
	for rel, f := range v1 {
		assert.Equal(t, f.Body, content[f.SHA256], "%s: its bytes are stored under its sha256", rel)
	}
}

// contentObjects returns sha256 → body of the content store under prefix.
func contentObjects(t *testing.T, c *s3.Client, bucket, prefix string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	objs, err := newS3Store(c, 0).List(ctx, bucket, prefix)
	require.NoError(t, err)
	for _, o := range objs {
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.Key)})
		require.NoError(t, err)
		b, err := io.ReadAll(g.Body)
		g.Body.Close()
		require.NoError(t, err)
		out[strings.TrimPrefix(o.Key, prefix)] = string(b)
	}
	return out
}

func distinct(bodies map[string]string) int {
	seen := map[string]bool{}
	for _, b := range bodies {
		seen[b] = true
	}
	return len(seen)
}

func TestRollbackS3_DefaultRestoresTheSiteAsItWasBeforeTheLastRelease(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.srv.NewBucket(t), "")
	o1 := e.options(writeTree(t, siteV1()))
	o1.Releases, o1.Who = store, "tester@host"
	_, err := e.deploy(t, o1)
	require.NoError(t, err)
	v1 := snapshot(t, e.direct, e.site, "www/")
	o2 := e.options(writeTree(t, siteV2()))
	o2.Releases, o2.Who = store, "tester@host"
	_, err = e.deploy(t, o2)
	require.NoError(t, err)

	rec, err := Rollback(context.Background(), Clients{S3: e.viaProxyClient}, RollbackOptions{
		Bucket: e.site, Prefix: "www", BackupBucket: e.backups, Releases: store, Who: "tester@host"})
	require.NoError(t, err)
	assert.Equal(t, "succeeded", rec.Outcome)
	assert.Equal(t, v1, snapshot(t, e.direct, e.site, "www/"))
	recs, err := store.List(context.Background(), "frontend", e.site+"/www")
	require.NoError(t, err)
	assert.Len(t, recs, 3, "two deploys and the rollback are recorded")
}

func TestDeployS3_LockedSiteIsRefusedWithNothingChanged(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.srv.NewBucket(t), "")
	l, err := store.Acquire(context.Background(), "frontend/"+e.site+"/www", release.Holder{Who: "other@ci", What: "deploy", Since: time.Now()}, release.LockOptions{})
	require.NoError(t, err)
	defer l.Release(context.Background())
	o := e.options(writeTree(t, siteV1()))
	o.Releases = store

	_, err = e.deploy(t, o)
	var locked *release.LockedError
	require.True(t, errors.As(err, &locked), "got %v", err)
	assert.Contains(t, err.Error(), "other@ci")
	assert.Empty(t, e.proxy.changesTo(e.site, ""))
}

func TestPlanS3_ListsUploadsSkipsAndDeletesAndChangesNothing(t *testing.T) {
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	e.proxy.reset()

	var out bytes.Buffer
	o := e.options(writeTree(t, siteV2()))
	o.BackupBucket, o.Out = "", &out
	p, err := Plan(context.Background(), Clients{S3: e.viaProxyClient}, o)
	require.NoError(t, err)
	assert.Len(t, p.Upload, 3)
	assert.Len(t, p.Skipped, 2)
	assert.Equal(t, []string{"assets/app-1a2b3c4d.js", "old.txt"}, p.Delete)
	assert.Contains(t, p.String(), "upload  index.html (changed")
	assert.Contains(t, out.String(), "==> plan")
	onlyReads(t, e.proxy)
}

// onlyReads asserts the proxy saw requests, and every one was a GET or HEAD.
func onlyReads(t *testing.T, p *faultProxy) {
	t.Helper()
	reqs := p.requests()
	require.NotEmpty(t, reqs, "the run read the site through the proxy")
	for _, l := range reqs {
		assert.True(t, strings.HasPrefix(l, "GET ") || strings.HasPrefix(l, "HEAD "), "mutating request %q", l)
	}
}

func TestDeployS3_DryRunSendsOnlyReadsAndTakesNoLock(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.viaProxyClient, e.srv.NewBucket(t), "")
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	before := snapshot(t, e.direct, e.site, "www/")
	e.proxy.reset()

	var out bytes.Buffer
	o := e.options(writeTree(t, siteV2()))
	o.DryRun, o.Releases, o.Out, o.MaxDelete = true, store, &out, 0
	rec, err := e.deploy(t, o)
	require.Error(t, err, "--max-delete still applies to a dry run")
	o.MaxDelete = 1000
	rec, err = e.deploy(t, o)
	require.NoError(t, err)

	assert.Equal(t, "dry-run", rec.Outcome)
	assert.Contains(t, out.String(), "upload  index.html (changed")
	assert.Contains(t, out.String(), "delete  old.txt")
	assert.Contains(t, out.String(), "DRY RUN OK")
	onlyReads(t, e.proxy)
	assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"))
}

func TestDeployS3_MissingBucketsAreRefusedWithNothingChanged(t *testing.T) {
	e := newS3Env(t)
	_, err := e.deploy(t, e.options(writeTree(t, siteV1())))
	require.NoError(t, err)
	before := snapshot(t, e.direct, e.site, "www/")
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want []string
	}{
		{"site bucket", func(o *Options) { o.Bucket = "esteira-no-such-site" }, []string{"nothing was changed", "esteira-no-such-site", "NoSuchBucket"}},
		{"backup bucket", func(o *Options) { o.BackupBucket = "esteira-no-such-backups" }, []string{"nothing was changed", "list the backups in s3://esteira-no-such-backups/", "NoSuchBucket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.proxy.reset()
			o := e.options(writeTree(t, siteV2()))
			tc.edit(&o)
			rec, err := e.deploy(t, o)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Equal(t, "failed", rec.Outcome)
			assert.Empty(t, e.proxy.changesTo(e.site, ""))
			assert.Equal(t, before, snapshot(t, e.direct, e.site, "www/"))
		})
	}
}

func TestDeployS3_LockOfADeployThatDiesMidPublishNamesItsBackup(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.srv.NewBucket(t), "")
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	var lockErr error
	st.afterPut = func(key string) {
		if lockErr == nil && !strings.Contains(key, reservedDir) {
			// The deploy is mid-publish: a second deploy (or the operator after a crash) sees the lock.
			_, lockErr = store.Acquire(context.Background(), "frontend/site/www", release.Holder{Who: "other@ci"}, release.LockOptions{})
		}
	}
	o := memOptions(writeTree(t, siteV2()))
	o.Releases, o.Who = store, "tester@host"

	rec, err := deploy(context.Background(), st, nil, o)
	require.NoError(t, err)
	var locked *release.LockedError
	require.ErrorAs(t, lockErr, &locked)
	assert.Contains(t, lockErr.Error(), rec.Frontend.BackupURI)
	assert.Contains(t, lockErr.Error(), "site rollback --backup "+rec.ID)
}
