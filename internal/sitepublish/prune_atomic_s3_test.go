package sitepublish

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// atomicEnv is an atomic site at s3://<site>/www on the test S3 server, its
// live pointer in the simulator's KeyValueStore, its records in a bucket.
type atomicEnv struct {
	*s3Env
	sim   *awssim.Server
	arn   string
	kv    *cloudfrontkeyvaluestore.Client
	store *release.Store
	s3    *deleteFaults
}

func newAtomicEnv(t *testing.T) *atomicEnv {
	e := newS3Env(t)
	sim := awssim.New(awssim.DefaultOptions())
	arn, err := sim.KVS.CreateStore("site-pointer")
	require.NoError(t, err)
	creds := sim.Credentials()
	kv := cloudfrontkeyvaluestore.New(cloudfrontkeyvaluestore.Options{
		BaseEndpoint: aws.String(sim.Start(t)), EndpointResolverV2: awsenv.KeyValueStoreEndpoints(), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""), RetryMaxAttempts: 1,
	})
	return &atomicEnv{s3Env: e, sim: sim, arn: arn, kv: kv, store: release.NewStore(e.direct, e.srv.NewBucket(t), ""),
		s3: &deleteFaults{S3API: e.direct}}
}

func (a *atomicEnv) clients() Clients { return Clients{S3: a.s3, KeyValueStore: a.kv} }

func (a *atomicEnv) release(t *testing.T, files map[string]string, keep int) (*release.Record, error) {
	t.Helper()
	return Deploy(context.Background(), a.clients(), Options{Dir: writeTree(t, files), Bucket: a.site, Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: a.arn},
		Releases: a.store, Who: "tester@host", Concurrency: 8, MaxDelete: 1000, Keep: keep})
}

func (a *atomicEnv) prune(t *testing.T, keep int, dryRun bool) Pruned {
	t.Helper()
	res, err := Prune(context.Background(), a.clients(), PruneOptions{Bucket: a.site, Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: a.arn},
		Releases: a.store, Who: "tester@host", Keep: keep, DryRun: dryRun})
	require.NoError(t, err)
	return res
}

// keys lists every key under prefix in the site bucket, esteira's own included.
func (a *atomicEnv) keys(t *testing.T, prefix string) []string {
	t.Helper()
	objs, err := newS3Store(a.direct, 0).List(context.Background(), a.site, prefix)
	require.NoError(t, err)
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

// deleteFaults fails DeleteObjects calls whose keys all lie outside
// reservedDir (the contents of a folder, not its manifest) while failing
// is set.
type deleteFaults struct {
	S3API
	mu      sync.Mutex
	failing bool
}

var errDeleteRefused = errors.New("injected: DeleteObjects refused")

func (d *deleteFaults) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	d.mu.Lock()
	failing := d.failing
	d.mu.Unlock()
	if failing {
		for _, o := range in.Delete.Objects {
			if !strings.Contains(aws.ToString(o.Key), reservedDir) {
				return nil, errDeleteRefused
			}
		}
	}
	return d.S3API.DeleteObjects(ctx, in, optFns...)
}

func (d *deleteFaults) set(failing bool) {
	d.mu.Lock()
	d.failing = failing
	d.mu.Unlock()
}

// Issue 16: an ordinary site at www/blog beside atomic releases at www is
// no release folder of www: neither its dry run nor its prune may touch it.
func TestPruneAtomic_LeavesANeighbourSiteAlone(t *testing.T) {
	a := newAtomicEnv(t)
	blog := map[string]string{"index.html": "<html>blog</html>", "post/index.html": "<html>post</html>"}
	_, err := a.deploy(t, Options{Dir: writeTree(t, blog), Bucket: a.site, Prefix: "www/blog", BackupBucket: a.backups, Concurrency: 8, MaxDelete: 1000})
	require.NoError(t, err)
	var ids []string
	for i, files := range []map[string]string{siteV1(), siteV2(), siteV1()} {
		files["index.html"] += strings.Repeat(" ", i)
		rec, err := a.release(t, files, 0)
		require.NoError(t, err)
		ids = append(ids, rec.ID)
	}

	dry := a.prune(t, 2, true)
	assert.NotContains(t, dry.Deleted, "blog", "the dry run lists a neighbour site as an old release")
	assert.Equal(t, []string{ids[0]}, dry.Deleted)
	res := a.prune(t, 2, false)
	assert.NotContains(t, res.Deleted, "blog")
	assert.Equal(t, []string{ids[0]}, res.Deleted)
	assert.Contains(t, res.LeftAlone, "blog", "the prune says what it found and did not own")
	assert.Equal(t, blog, bodies(snapshot(t, a.direct, a.site, "www/blog/")), "the neighbour site is whole")
	assert.Empty(t, a.keys(t, "www/"+ids[0]+"/"))
}

// Issue 16: a release whose switch was refused and whose folder could not
// be deleted says a prune removes it; the prune must then do so.
func TestPruneAtomic_RemovesTheFolderOfAReleaseThatNeverWentLive(t *testing.T) {
	a := newAtomicEnv(t)
	first, err := a.release(t, siteV1(), 0)
	require.NoError(t, err)

	require.NoError(t, a.sim.KVS.Script([]awssim.KVSFault{{Operation: "PutKey", Count: 1, Code: "ConflictException"}}))
	a.s3.set(true)
	failed, err := a.release(t, siteV2(), 0)
	a.s3.set(false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "prune", "the error says what removes the folder")
	assert.NotEmpty(t, a.keys(t, "www/"+failed.ID+"/"), "precondition: the clean-up failed and left the folder")

	for i, files := range []map[string]string{siteV2(), siteV1(), siteV2()} {
		files["index.html"] += strings.Repeat(" ", i+1)
		_, err := a.release(t, files, 0)
		require.NoError(t, err)
	}
	res := a.prune(t, 1, false)
	assert.Contains(t, res.Unfinished, failed.ID)
	assert.Empty(t, a.keys(t, "www/"+failed.ID+"/"), "the folder the error promised a prune removes is gone")
	assert.Empty(t, a.keys(t, "www/"+first.ID+"/"), "and the old release beyond keep too")
}

// bytesOf reads one object.
func bytesOf(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	defer out.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(out.Body)
	require.NoError(t, err)
	return b.Bytes()
}

// A rollback of the atomic site at www to "blog", the ordinary site beside
// it, would serve the blog as the site: refused, the pointer unchanged.
func TestRollbackAtomic_RefusesAFolderThatIsNoReleaseOfTheSite(t *testing.T) {
	a := newAtomicEnv(t)
	_, err := a.deploy(t, Options{Dir: writeTree(t, map[string]string{"index.html": "blog"}), Bucket: a.site, Prefix: "www/blog",
		BackupBucket: a.backups, Concurrency: 8, MaxDelete: 1000})
	require.NoError(t, err)
	live, err := a.release(t, siteV1(), 0)
	require.NoError(t, err)

	_, err = Rollback(context.Background(), a.clients(), RollbackOptions{Bucket: a.site, Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: a.arn},
		Releases: a.store, Who: "tester@host", Backup: "blog"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not a release of")
	keys, ok := a.sim.KVS.Keys(a.arn)
	require.True(t, ok)
	assert.Equal(t, live.ID, keys[a.site+"/www"])
}
