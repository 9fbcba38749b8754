package sitepublish

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeCloudFront records invalidation requests.
type fakeCloudFront struct {
	got []*cloudfront.CreateInvalidationInput
}

func (f *fakeCloudFront) CreateInvalidation(_ context.Context, in *cloudfront.CreateInvalidationInput, _ ...func(*cloudfront.Options)) (*cloudfront.CreateInvalidationOutput, error) {
	f.got = append(f.got, in)
	return &cloudfront.CreateInvalidationOutput{Invalidation: &types.Invalidation{Id: aws.String("I123")}}, nil
}

func TestDeploy_InvalidatesChangedPathsAndDirectoryIndexes(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	v2 := siteV1()
	v2["about/index.html"] = "<html>about v2</html>"
	cf := &fakeCloudFront{}
	o := memOptions(writeTree(t, v2))
	o.DistributionID = "E1"

	rec, err := deploy(context.Background(), st, cf, o)
	require.NoError(t, err)
	require.Len(t, cf.got, 1)
	assert.Equal(t, []string{"/about/", "/about/index.html"}, cf.got[0].InvalidationBatch.Paths.Items)
	assert.Equal(t, "I123", rec.Frontend.Invalidation)
}

func TestInvalidationPaths_CollapseToWildcardOverTheLimit(t *testing.T) {
	p := &SitePlan{Upload: []Change{{Path: "a.js"}, {Path: "b.js"}}, Delete: []string{"c.js"}}
	assert.Equal(t, []string{"/a.js", "/b.js", "/c.js"}, invalidationPaths(p, 3))
	assert.Equal(t, []string{"/*"}, invalidationPaths(p, 2))
}

func TestDeploy_RefusesDistributionWithoutCloudFrontClient(t *testing.T) {
	st := newMemStore("site", "backups")
	o := memOptions(writeTree(t, siteV1()))
	o.DistributionID = "E1"
	_, err := deploy(context.Background(), st, nil, o)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "CloudFront"))
	assert.Empty(t, st.changes())
}

func TestDeploy_RestoredReleaseInvalidatesThePathsItTouched(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	st.failAt["put"] = st.calls["put"] + 5 // backup manifest, 3 files, then the site manifest fails
	cf := &fakeCloudFront{}
	o := memOptions(writeTree(t, siteV2()))
	o.DistributionID = "E1"

	rec, err := deploy(context.Background(), st, cf, o)
	require.Error(t, err)
	assert.Equal(t, "rolled-back", rec.Outcome)
	require.Len(t, cf.got, 1, "the CDN may have cached the failed release's files")
	assert.Equal(t, []string{"/", "/assets/app-1a2b3c4d.js", "/assets/app-5e6f7a8b.js", "/index.html", "/new.txt", "/old.txt"},
		cf.got[0].InvalidationBatch.Paths.Items)
	assert.Equal(t, "I123", rec.Frontend.Invalidation)
}

func TestRollback_InvalidatesThePathsItRestored(t *testing.T) {
	st := newMemStore("site", "backups")
	deployMem(t, st, siteV1())
	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2())))
	require.NoError(t, err)
	cf := &fakeCloudFront{}

	rb, err := rollback(context.Background(), st, cf, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups",
		Backup: backupID(t, rec.Frontend.BackupURI), DistributionID: "E1"})
	require.NoError(t, err)
	require.Len(t, cf.got, 1)
	assert.Equal(t, []string{"/", "/assets/app-1a2b3c4d.js", "/assets/app-5e6f7a8b.js", "/index.html", "/new.txt", "/old.txt"},
		cf.got[0].InvalidationBatch.Paths.Items)
	assert.Equal(t, "I123", rb.Frontend.Invalidation)

	_, err = rollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups",
		Backup: backupID(t, rec.Frontend.BackupURI), DistributionID: "E1"})
	require.ErrorContains(t, err, "no CloudFront client")
}
