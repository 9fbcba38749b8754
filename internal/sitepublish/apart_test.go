package sitepublish

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (e *s3Env) keys(t *testing.T, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(e.direct, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		require.NoError(t, err)
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// A release store inside the site: a deploy would delete the records and
// its own lock. Refused before anything changes, for deploy and rollback.
func TestDeploy_RefusesAReleaseStoreInsideTheSite(t *testing.T) {
	e := newS3Env(t)
	for _, c := range []struct{ site, records string }{{"", "esteira"}, {"esteira", "esteira"}, {"www", "www/releases"}} {
		o := e.options(writeTree(t, siteV1()))
		o.Prefix, o.Releases, o.Who = c.site, release.NewStore(e.direct, e.site, c.records), "test"
		o.BackupBucket = e.backups
		_, err := e.deploy(t, o)
		require.Error(t, err, "%+v", c)
		assert.Contains(t, err.Error(), "is inside the site")
		assert.Empty(t, e.keys(t, e.site, ""), "nothing was written")
		_, err = Rollback(t.Context(), Clients{S3: e.direct}, RollbackOptions{Bucket: e.site, Prefix: c.site, BackupBucket: e.backups, Backup: "x", Releases: o.Releases})
		assert.ErrorContains(t, err, "is inside the site")
	}
	// Beside the site is fine.
	o := e.options(writeTree(t, siteV1()))
	o.Releases, o.Who = release.NewStore(e.direct, e.site, "esteira"), "test"
	_, err := e.deploy(t, o)
	require.NoError(t, err)
}

// A site that encloses another site (or a backup kept in the site bucket)
// would delete it as files gone from the build: refused, nothing deleted.
func TestDeploy_RefusesASiteThatEnclosesAnotherSiteOrABackup(t *testing.T) {
	e := newS3Env(t)
	blog := e.options(writeTree(t, map[string]string{"index.html": "<h1>blog</h1>", "post.html": "p"}))
	blog.Prefix = "www/blog"
	_, err := e.deploy(t, blog)
	require.NoError(t, err)
	before := e.keys(t, e.site, "www/blog/")
	require.NotEmpty(t, before)

	outer := e.options(writeTree(t, siteV1()))
	outer.Prefix = "www"
	_, err = e.deploy(t, outer)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "www/blog/")
	assert.Contains(t, err.Error(), "nothing was changed")
	assert.Equal(t, before, e.keys(t, e.site, "www/blog/"))
	_, err = Plan(t.Context(), Clients{S3: e.direct}, Options{Dir: outer.Dir, Bucket: e.site, Prefix: "www"})
	assert.ErrorContains(t, err, "www/blog/", "the plan says so too")

	// Backups in the site bucket (the default when --backup-bucket is the
	// site bucket) are under esteira-backups/: a site at the bucket's root
	// encloses them.
	inBucket := e.options(writeTree(t, siteV1()))
	inBucket.Prefix, inBucket.BackupBucket = "app", e.site
	_, err = e.deploy(t, inBucket)
	require.NoError(t, err)
	_, err = e.deploy(t, inBucket) // a second release takes a backup of the first
	require.NoError(t, err)
	backups := e.keys(t, e.site, "esteira-backups/")
	root := e.options(writeTree(t, siteV1()))
	root.Prefix = ""
	_, err = e.deploy(t, root)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "esteira-backups/app/")
	assert.Equal(t, backups, e.keys(t, e.site, "esteira-backups/"))
}

// The locks of a site and of a site inside it exclude each other, both ways.
func TestDeploy_ASiteAndASiteInsideItAreNeverReleasedAtOnce(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.backups, "records")
	for _, c := range []struct{ held, deploy string }{{"www", "www/blog"}, {"www/blog", "www"}} {
		held, err := store.Acquire(t.Context(), "frontend/"+e.site+"/"+c.held, release.Holder{Who: "other@ci", What: "deploy-frontend"}, release.LockOptions{})
		require.NoError(t, err)
		o := e.options(writeTree(t, siteV1()))
		o.Prefix, o.Releases, o.Who = c.deploy, store, "me"
		_, err = e.deploy(t, o)
		require.Error(t, err, "%+v", c)
		assert.Contains(t, err.Error(), e.site+"/"+c.held+" (held by other@ci")
		assert.Empty(t, e.keys(t, e.site, ""), "nothing was published")
		require.NoError(t, held.Release(t.Context()))
		mine, err := store.Acquire(t.Context(), "frontend/"+e.site+"/"+c.deploy, release.Holder{Who: "me"}, release.LockOptions{})
		require.NoError(t, err, "the refused deploy released its own lock")
		require.NoError(t, mine.Release(t.Context()))
	}
}
