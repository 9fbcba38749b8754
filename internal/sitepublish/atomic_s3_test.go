package sitepublish

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real KeyValueStore client (SigV4A, REST-JSON) against the simulator,
// the real S3 client against the S3 server: release, release, roll back
// by the records, and a scripted PutKey failure that must leave the site on
// the release before it.
func TestAtomicS3_ReleasesAndRollsBackThroughTheRealClients(t *testing.T) {
	e := newS3Env(t)
	sim := awssim.New(awssim.DefaultOptions())
	arn, err := sim.KVS.CreateStore("site-pointer")
	require.NoError(t, err)
	creds := sim.Credentials()
	kv := cloudfrontkeyvaluestore.New(cloudfrontkeyvaluestore.Options{
		BaseEndpoint: aws.String(sim.Start(t)), EndpointResolverV2: awsenv.KeyValueStoreEndpoints(), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""), RetryMaxAttempts: 1,
	})
	c := Clients{S3: e.viaProxyClient, KeyValueStore: kv}
	store := release.NewStore(e.direct, e.srv.NewBucket(t), "")
	opts := func(files map[string]string) Options {
		return Options{Dir: writeTree(t, files), Bucket: e.site, Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: arn},
			Releases: store, Who: "tester@host", Concurrency: 8, MaxDelete: 1000}
	}
	live := func() string {
		keys, _ := sim.KVS.Keys(arn)
		return keys[e.site+"/www"]
	}
	ctx := context.Background()

	first, err := Deploy(ctx, c, opts(siteV1()))
	require.NoError(t, err)
	assert.Equal(t, first.ID, live())
	second, err := Deploy(ctx, c, opts(siteV2()))
	require.NoError(t, err)
	assert.Equal(t, second.ID, live())
	assert.Equal(t, bodies(snapshot(t, e.direct, e.site, "www/"+second.ID+"/")), siteV2())

	require.NoError(t, sim.KVS.Script([]awssim.KVSFault{{Operation: "PutKey", Count: 1}}))
	v3 := siteV2()
	v3["index.html"] = "<html>v3</html>"
	failed, err := Deploy(ctx, c, opts(v3))
	require.Error(t, err)
	assert.Equal(t, release.OutcomeFailed, failed.Outcome)
	assert.Equal(t, second.ID, live(), "a switch that failed left the pointer where it was")
	assert.Empty(t, snapshot(t, e.direct, e.site, "www/"+failed.ID+"/"), "and the unused folder is gone")

	back, err := Rollback(ctx, c, RollbackOptions{Bucket: e.site, Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: arn}, Releases: store, Who: "tester@host"})
	require.NoError(t, err)
	assert.Equal(t, first.ID, back.Frontend.Release, "the records name the release the live one replaced")
	assert.Equal(t, first.ID, live())
	assert.Equal(t, bodies(snapshot(t, e.direct, e.site, "www/"+first.ID+"/")), siteV1())

	_, err = Rollback(ctx, c, RollbackOptions{Bucket: e.site, Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: arn}, Releases: store, Who: "tester@host"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "first atomic release")
	assert.Equal(t, first.ID, live())
}
