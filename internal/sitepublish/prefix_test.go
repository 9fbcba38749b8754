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

// Prefixes that would fail midway (or restore the wrong keys) are refused
// up front, naming the flag, before anything changes.
func TestDeploy_RefusesBadPrefixesBeforeAnyChange(t *testing.T) {
	good := writeTree(t, siteV1())
	for _, p := range []string{"a//b", "./www", "../www", "www/..", `win\path`, "tab\there"} {
		t.Run(p, func(t *testing.T) {
			st := newMemStore("site", "backups")
			o := memOptions(good)
			o.Prefix = p
			_, err := deploy(context.Background(), st, nil, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "the site's prefix")
			assert.Equal(t, []string{"Prefix"}, settingsOf(err))
			assert.Contains(t, err.Error(), "not a valid key prefix")
			assert.Empty(t, st.changes())
			_, err = Rollback(context.Background(), Clients{S3: s3.New(s3.Options{Region: "eu-west-1"})}, RollbackOptions{Bucket: "site", Prefix: p, BackupBucket: "backups", Backup: "x"})
			assert.ErrorContains(t, err, "not a valid key prefix")
		})
	}
}

// Valid S3 prefixes with spaces, non-ASCII letters or '~' publish, lock and
// record on the real S3 server (they used to fail with "invalid lock name").
func TestDeploy_PublishesToPrefixesS3Allows(t *testing.T) {
	e := newS3Env(t)
	store := release.NewStore(e.direct, e.backups, "esteira")
	for _, p := range []string{"my site", "sitio/ção", "www~1", "/www2/"} {
		t.Run(p, func(t *testing.T) {
			o := e.options(writeTree(t, siteV1()))
			o.Prefix, o.Releases, o.Who = p, store, "test"
			rec, err := e.deploy(t, o)
			require.NoError(t, err)
			assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
			loc := newLocation(e.site, p)
			_, err = e.direct.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(e.site), Key: aws.String(loc.key("index.html"))})
			require.NoError(t, err, "index.html is under %q", loc.Prefix)
		})
	}
}
