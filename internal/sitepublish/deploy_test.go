package sitepublish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func memOptions(dir string) Options {
	return Options{Dir: dir, Bucket: "site", Prefix: "www", BackupBucket: "backups", Concurrency: 4, MaxDelete: 1000}
}

// deployMem publishes files to a memStore and returns the store.
func deployMem(t *testing.T, st *memStore, files map[string]string) {
	t.Helper()
	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, files)))
	require.NoError(t, err)
	require.Contains(t, []string{"succeeded", "no-change"}, rec.Outcome)
}

// sitePuts returns the order of Puts into the live site (not manifests).
func sitePuts(log []string) []string {
	var out []string
	for _, l := range log {
		if strings.HasPrefix(l, "put www/") && !strings.Contains(l, reservedDir) {
			out = append(out, strings.TrimPrefix(l, "put www/"))
		}
	}
	return out
}

func TestDeploy_UploadsAssetsThenHTMLThenIndexThenDeletes(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	st.log = nil
	deployMem(t, st, siteV2())

	log := st.changes()
	puts := sitePuts(log)
	require.Len(t, puts, 3, "only the changed files: %v", puts)
	assert.ElementsMatch(t, []string{"assets/app-5e6f7a8b.js", "new.txt"}, puts[:2], "assets first")
	assert.Equal(t, "index.html", puts[2], "the root index.html last")
	lastPut, firstDelete := -1, -1
	for i, l := range log {
		if strings.HasPrefix(l, "put www/") && !strings.Contains(l, reservedDir) {
			lastPut = i
		}
		if strings.HasPrefix(l, "delete www/") && firstDelete < 0 {
			firstDelete = i
		}
	}
	require.Positive(t, firstDelete)
	assert.Less(t, lastPut, firstDelete, "deletes only after every upload")
	assert.Equal(t, siteV2(), st.snapshot("site", "www/"))
}

func TestDeploy_RestoresBackupWhenAnUploadFails(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	before := st.snapshot("site", "www/")
	st.failAt["put"] = st.calls["put"] + 2 // the second upload of the next release fails

	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2())))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "restored")
	assert.Equal(t, "rolled-back", rec.Outcome)
	assert.Equal(t, before, st.snapshot("site", "www/"), "the site is what it was before")
}

func TestDeploy_CancelledMidUploadStillRestoresTheSite(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	before := st.snapshot("site", "www/")
	st.log = nil
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st.afterPut = func(key string) {
		if !strings.Contains(key, reservedDir) {
			cancel() // the user hits Ctrl-C after the first upload
		}
	}
	o := memOptions(writeTree(t, siteV2()))
	o.Concurrency = 1

	rec, err := deploy(ctx, st, nil, o)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "rolled-back", rec.Outcome)
	assert.Equal(t, before, st.snapshot("site", "www/"))
	assert.Len(t, sitePuts(st.changes()), 1, "no upload starts after the cancel")
}

func TestDeploy_BackupThatDoesNotVerifyChangesNothing(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	before := st.snapshot("site", "www/")
	st.log, st.corruptCopies = nil, true

	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2())))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the backup failed, so the site was not changed")
	assert.ErrorIs(t, err, errVerify)
	assert.Equal(t, "failed", rec.Outcome)
	for _, l := range st.changes() {
		assert.True(t, strings.HasPrefix(l, "copy "), "only backup copies happened, got %q", l)
	}
	assert.Equal(t, before, st.snapshot("site", "www/"))
}

func TestDeploy_RefusesMassDeleteBeforeAnyChange(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxDelete int
		build     map[string]string
		want      string
	}{
		{"over the limit", 2, map[string]string{"index.html": "x"}, "would delete 4 objects"},
		{"zero refuses any delete", 0, map[string]string{"index.html": "x", "about/index.html": "a",
			"assets/app-1a2b3c4d.js": "j", "assets/style-9f8e7d6c.css": "c"}, "would delete 1 objects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore("site", "backups")
			deployMem(t, st, siteV1())
			st.log = nil
			o := memOptions(writeTree(t, tc.build))
			o.MaxDelete = tc.maxDelete

			_, err := deploy(context.Background(), st, nil, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), fmt.Sprintf("more than the limit of %d deletes", tc.maxDelete))
			assert.Equal(t, []string{"MaxDelete"}, settingsOf(err))
			assert.Empty(t, st.changes())
		})
	}
}

func TestDeploy_DryRunChangesNothing(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	st.log = nil
	o := memOptions(writeTree(t, siteV2()))
	o.DryRun = true

	rec, err := deploy(context.Background(), st, nil, o)
	require.NoError(t, err)
	assert.Equal(t, "dry-run", rec.Outcome)
	assert.Empty(t, st.changes())
}

func TestDeploy_RejectsBadInputBeforeAnyChange(t *testing.T) {
	unreadable := writeTree(t, map[string]string{"index.html": "x", "secret.txt": "y"})
	require.NoError(t, os.Chmod(filepath.Join(unreadable, "secret.txt"), 0o000))
	if f, err := os.Open(filepath.Join(unreadable, "secret.txt")); err == nil {
		f.Close() // root can read anything: make the file a dangling symlink instead
		require.NoError(t, os.Remove(filepath.Join(unreadable, "secret.txt")))
		require.NoError(t, os.Symlink("/nonexistent/esteira", filepath.Join(unreadable, "secret.txt")))
	}
	good := writeTree(t, siteV1())
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"missing bucket", func(o *Options) { o.Bucket = "" }, "name the S3 bucket that serves the site"},
		{"missing backup bucket", func(o *Options) { o.BackupBucket = "" }, "has no backup bucket"},
		{"empty dist", func(o *Options) { o.Dir = t.TempDir() }, "is empty (no files)"},
		{"missing dist", func(o *Options) { o.Dir = filepath.Join(t.TempDir(), "nope") }, "build folder"},
		{"unreadable file", func(o *Options) { o.Dir = unreadable }, "secret.txt"},
		{"backup inside site", func(o *Options) { o.BackupBucket, o.BackupPrefix = "site", "www/backups" }, "inside the site"},
		{"backup in site bucket root", func(o *Options) { o.BackupBucket, o.Prefix = "site", "" }, "inside the site"},
		{"brotli", func(o *Options) { o.Precompress = []string{"br"} }, "Brotli"},
		{"negative keep", func(o *Options) { o.Keep = -1 }, "keep -1 is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore("site", "backups")
			o := memOptions(good)
			tc.edit(&o)
			_, err := deploy(context.Background(), st, nil, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, st.changes())
		})
	}
}

func backupID(t *testing.T, uri string) string {
	t.Helper()
	id := strings.TrimSuffix(strings.TrimPrefix(uri, "s3://backups/www/"), "/")
	require.NotEmpty(t, id)
	return id
}

func TestRollback_RestoresNamedBackupAndKeepsTheReplacedSite(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	v1 := st.snapshot("site", "www/")
	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2())))
	require.NoError(t, err)
	ro := RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: backupID(t, rec.Frontend.BackupURI)}

	rb, err := rollback(context.Background(), st, nil, ro)
	require.NoError(t, err)
	assert.Equal(t, "succeeded", rb.Outcome)
	assert.Equal(t, v1, st.snapshot("site", "www/"))

	ro.Backup = backupID(t, rb.Frontend.BackupURI) // the rollback's own backup: the site it replaced
	_, err = rollback(context.Background(), st, nil, ro)
	require.NoError(t, err)
	assert.Equal(t, siteV2(), st.snapshot("site", "www/"), "rolling the rollback back loses nothing")
}

func TestRollback_RefusesBackupMissingBytesBeforeAnyChange(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2())))
	require.NoError(t, err)
	id := backupID(t, rec.Frontend.BackupURI)
	require.NoError(t, st.Delete(context.Background(), "backups", []string{"www/.esteira/content/" + hashBytes([]byte("stale"))}))
	st.log = nil

	_, err = rollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: id})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "old.txt")
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Empty(t, st.changes())
}

func TestRollback_RefusesUnknownBackupBeforeAnyChange(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	st.log = nil

	_, err := rollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: "20200101T000000Z-000000"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a verified esteira backup")
	assert.Empty(t, st.changes())
}

func TestDeploy_RestorePutsBackTheRecordedHeadersWhenTheBackupCopiesLostThem(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	before, beforeHeaders := st.snapshot("site", "www/"), st.headersOf("site", "www/")
	require.Equal(t, "text/html; charset=utf-8\nno-cache\n", beforeHeaders["index.html"])
	st.copiesLoseHeaders = true            // the backup copies keep the bytes but not Content-Type or Cache-Control
	st.failAt["put"] = st.calls["put"] + 5 // backup manifest, 3 files, then the site manifest fails: the site is all new

	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2())))
	require.Error(t, err)
	assert.Equal(t, "rolled-back", rec.Outcome, "%v", err)
	assert.Equal(t, before, st.snapshot("site", "www/"))
	assert.Equal(t, beforeHeaders, st.headersOf("site", "www/"), "headers as the backup recorded them")
}

func TestRollback_FailsWhenTheRestoredHeadersDoNotVerify(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2())))
	require.NoError(t, err)
	st.loseAllHeaders = true // every copy stores no headers: the bytes verify, the headers must not

	rb, err := rollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups",
		Backup: backupID(t, rec.Frontend.BackupURI)})
	require.Error(t, err)
	assert.ErrorIs(t, err, errVerify)
	assert.Contains(t, err.Error(), "index.html: headers")
	assert.Equal(t, "failed", rb.Outcome)
}

func TestDeploy_UploadsEveryAssetBeforeAnyPageAndEveryPageBeforeTheRootIndex(t *testing.T) {
	st := newMemStore("site", "backups")
	v2 := siteV2()
	v2["about/index.html"] = "<html>about v2</html>"
	v2["404.html"] = "<html>not found</html>"
	v2["blog/post.htm"] = "<html>post</html>"
	v2["assets/logo.svg"] = "<svg/>"
	deployMem(t, st, siteV1())
	st.log = nil
	deployMem(t, st, v2)

	phaseOf := map[string]int{"assets/app-5e6f7a8b.js": phaseAsset, "new.txt": phaseAsset, "assets/logo.svg": phaseAsset,
		"about/index.html": phaseHTML, "404.html": phaseHTML, "blog/post.htm": phaseHTML, "index.html": phaseIndex}
	puts := sitePuts(st.changes())
	require.Len(t, puts, len(phaseOf), "%v", puts)
	for i := 1; i < len(puts); i++ {
		assert.LessOrEqual(t, phaseOf[puts[i-1]], phaseOf[puts[i]], "%s uploaded before %s: %v", puts[i-1], puts[i], puts)
	}
	assert.Equal(t, "index.html", puts[len(puts)-1])
}
