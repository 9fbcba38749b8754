package sitepublish

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refuseStore answers 503 to record uploads and lock deletes: the release
// store is down at the end of a release.
type refuseStore struct{ next http.RoundTripper }

func (f refuseStore) RoundTrip(r *http.Request) (*http.Response, error) {
	if (r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/records/frontend/")) ||
		(r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/locks/")) {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Request: r,
			Body: io.NopCloser(strings.NewReader("<Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>"))}, nil
	}
	return f.next.RoundTrip(r)
}

// A release that succeeded but could neither write its record nor release
// its lock leaves a lock that says so, not "if it died mid-publish, restore".
func TestDeploy_ALockLeftByASuccessfulReleaseSaysItSucceeded(t *testing.T) {
	e := newS3Env(t)
	client := s3.New(s3.Options{Region: e.srv.Region, BaseEndpoint: aws.String(e.srv.Endpoint), UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider(e.srv.AccessKeyID, e.srv.SecretAccessKey, ""),
		HTTPClient:       &http.Client{Transport: refuseStore{http.DefaultTransport}},
		RetryMaxAttempts: 1})
	store := release.NewStore(client, e.backups, "records")
	o := e.options(writeTree(t, siteV1()))
	o.Releases, o.Who = store, "ci"
	rec, err := e.deploy(t, o)
	require.Error(t, err, "the record could not be written")
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)

	_, err = release.NewStore(e.direct, e.backups, "records").Acquire(t.Context(), "frontend/"+e.site+"/www", release.Holder{Who: "next"}, release.LockOptions{})
	var locked *release.LockedError
	require.ErrorAs(t, err, &locked, "the lock was left behind")
	assert.Contains(t, locked.Holder.What, "ended succeeded")
	assert.Contains(t, locked.Holder.What, "nothing needs restoring")
	assert.NotContains(t, locked.Holder.What, "mid-publish")
	assert.Empty(t, locked.Holder.Backup, "a rollback after breaking it must not restore this release's backup")
}
