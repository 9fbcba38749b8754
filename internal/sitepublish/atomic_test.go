package sitepublish

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore/types"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testKVS = "arn:aws:cloudfront::123456789012:key-value-store/0f1e2d3c-site"

// memKVS is a KeyValueStore with the service's ETag rule: every change
// makes a new ETag, and a PutKey must name the current one.
type memKVS struct {
	mu      sync.Mutex
	keys    map[string]string
	version int
	failPut error
	puts    int
	// beforePut runs before a PutKey is applied (a concurrent change).
	beforePut func()
}

func newMemKVS() *memKVS { return &memKVS{keys: map[string]string{}} }

func (k *memKVS) etag() string { return fmt.Sprintf("E%d", k.version) }

func (k *memKVS) DescribeKeyValueStore(_ context.Context, in *cloudfrontkeyvaluestore.DescribeKeyValueStoreInput, _ ...func(*cloudfrontkeyvaluestore.Options)) (*cloudfrontkeyvaluestore.DescribeKeyValueStoreOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return &cloudfrontkeyvaluestore.DescribeKeyValueStoreOutput{KvsARN: in.KvsARN, ETag: aws.String(k.etag())}, nil
}

func (k *memKVS) GetKey(_ context.Context, in *cloudfrontkeyvaluestore.GetKeyInput, _ ...func(*cloudfrontkeyvaluestore.Options)) (*cloudfrontkeyvaluestore.GetKeyOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.keys[aws.ToString(in.Key)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no such key")}
	}
	return &cloudfrontkeyvaluestore.GetKeyOutput{Key: in.Key, Value: aws.String(v)}, nil
}

func (k *memKVS) PutKey(_ context.Context, in *cloudfrontkeyvaluestore.PutKeyInput, _ ...func(*cloudfrontkeyvaluestore.Options)) (*cloudfrontkeyvaluestore.PutKeyOutput, error) {
	if k.beforePut != nil {
		k.beforePut()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.puts++
	if k.failPut != nil {
		return nil, k.failPut
	}
	if aws.ToString(in.IfMatch) != k.etag() {
		return nil, &types.ConflictException{Message: aws.String("ETag mismatch")}
	}
	k.keys[aws.ToString(in.Key)] = aws.ToString(in.Value)
	k.version++
	return &cloudfrontkeyvaluestore.PutKeyOutput{ETag: aws.String(k.etag())}, nil
}

func (k *memKVS) live() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys["site/www"]
}

func atomicOptions(dir string) Options {
	return Options{Dir: dir, Bucket: "site", Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: testKVS}, Concurrency: 4, MaxDelete: 1000}
}

func deployAtomicMem(t *testing.T, st *memStore, kv *memKVS, files map[string]string) *release.Record {
	t.Helper()
	rec, err := deployWith(context.Background(), st, nil, kv, atomicOptions(writeTree(t, files)))
	require.NoError(t, err)
	require.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	return rec
}

// served is the site visitors get: the folder the pointer names.
func served(st *memStore, kv *memKVS) map[string]string {
	return st.snapshot("site", "www/"+kv.live()+"/")
}

func TestAtomic_AReleaseIsNeverVisibleHalfDone(t *testing.T) {
	st, kv := newMemStore("site"), newMemKVS()
	first := deployAtomicMem(t, st, kv, siteV1())
	assert.Equal(t, first.ID, kv.live())
	assert.Equal(t, siteV1(), served(st, kv))

	var checks int
	st.afterPut = func(key string) {
		// Every write of the second release happens while visitors still
		// get the whole first one.
		checks++
		assert.Equal(t, first.ID, kv.live(), "pointer moved before the release was complete (at %s)", key)
		assert.Equal(t, siteV1(), served(st, kv), "the live release changed (at %s)", key)
	}
	second := deployAtomicMem(t, st, kv, siteV2())
	st.afterPut = nil
	assert.Positive(t, checks)
	assert.Equal(t, second.ID, kv.live())
	assert.Equal(t, siteV2(), served(st, kv))
	assert.Equal(t, first.ID, second.Frontend.Previous)
	assert.Equal(t, siteV1(), st.snapshot("site", "www/"+first.ID+"/"), "the previous release is untouched")
}

func TestAtomic_UnchangedFilesAreCopiedServerSideNotUploaded(t *testing.T) {
	st, kv := newMemStore("site"), newMemKVS()
	deployAtomicMem(t, st, kv, siteV1())
	st.log = nil
	rec := deployAtomicMem(t, st, kv, siteV2())
	var puts, copies []string
	for _, l := range st.changes() {
		key, _ := strings.CutPrefix(strings.SplitN(l, " ", 2)[1], "www/"+rec.ID+"/")
		switch {
		case strings.Contains(l, reservedDir):
		case strings.HasPrefix(l, "put "):
			puts = append(puts, key)
		case strings.HasPrefix(l, "copy "):
			copies = append(copies, key)
		}
	}
	assert.ElementsMatch(t, []string{"index.html", "assets/app-5e6f7a8b.js", "new.txt"}, puts)
	assert.ElementsMatch(t, []string{"about/index.html", "assets/style-9f8e7d6c.css"}, copies)
	assert.Equal(t, 3, rec.Frontend.Uploaded)
	assert.Equal(t, 2, rec.Frontend.Skipped)
}

func TestAtomic_AFailureMidReleaseLeavesThePointerOnTheOldRelease(t *testing.T) {
	st, kv := newMemStore("site"), newMemKVS()
	first := deployAtomicMem(t, st, kv, siteV1())
	st.failAt["put"] = st.calls["put"] + 2

	rec, err := deployWith(context.Background(), st, nil, kv, atomicOptions(writeTree(t, siteV2())))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "still names release "+first.ID)
	assert.Equal(t, release.OutcomeFailed, rec.Outcome)
	assert.Equal(t, first.ID, kv.live())
	assert.Equal(t, siteV1(), served(st, kv))
	assert.Empty(t, st.objects("site", "www/"+rec.ID+"/"), "the unused folder is deleted")
}

func TestAtomic_ASwitchRefusedByAConcurrentChangeChangesNothingVisible(t *testing.T) {
	st, kv := newMemStore("site"), newMemKVS()
	first := deployAtomicMem(t, st, kv, siteV1())
	kv.beforePut = func() { // someone else switches the pointer meanwhile
		kv.mu.Lock()
		kv.version++
		kv.mu.Unlock()
		kv.beforePut = nil
	}
	rec, err := deployWith(context.Background(), st, nil, kv, atomicOptions(writeTree(t, siteV2())))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "changed since this release read it")
	assert.Equal(t, first.ID, kv.live())
	assert.Empty(t, st.objects("site", "www/"+rec.ID+"/"))
}

func TestAtomic_RollbackIsOnePointerSwitch(t *testing.T) {
	st, kv := newMemStore("site"), newMemKVS()
	first := deployAtomicMem(t, st, kv, siteV1())
	second := deployAtomicMem(t, st, kv, siteV2())
	st.log = nil
	puts := kv.puts

	rec, err := rollbackPointer(context.Background(), st, kv, RollbackOptions{Bucket: "site", Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: testKVS}, Backup: first.ID})
	require.NoError(t, err)
	assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
	assert.Equal(t, first.ID, kv.live())
	assert.Equal(t, siteV1(), served(st, kv))
	assert.Equal(t, puts+1, kv.puts, "one PutKey")
	assert.Empty(t, st.changes(), "no object copied, written or deleted")
	assert.Equal(t, second.ID, rec.Frontend.Previous)

	_, err = rollbackPointer(context.Background(), st, kv, RollbackOptions{Bucket: "site", Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: testKVS}, Backup: first.ID})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already live")
}

func TestAtomic_RollbackRefusesAFolderThatIsNotACompleteRelease(t *testing.T) {
	st, kv := newMemStore("site"), newMemKVS()
	first := deployAtomicMem(t, st, kv, siteV1())
	deployAtomicMem(t, st, kv, siteV2())
	require.NoError(t, st.Delete(context.Background(), "site", []string{"www/" + first.ID + "/.esteira/manifest.json"}))
	before := kv.live()

	_, err := rollbackPointer(context.Background(), st, kv, RollbackOptions{Bucket: "site", Prefix: "www", Atomic: &AtomicOptions{KeyValueStore: testKVS}, Backup: first.ID})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a complete release")
	assert.Equal(t, before, kv.live())
}

func TestAtomic_KeepPrunesOldReleasesButNeverTheLiveOneOrTheOneBefore(t *testing.T) {
	st, kv := newMemStore("site"), newMemKVS()
	var ids []string
	for i := range 4 {
		v := maps.Clone(siteV1())
		v["index.html"] = fmt.Sprintf("<html>v%d</html>", i)
		o := atomicOptions(writeTree(t, v))
		o.Keep = 1
		rec, err := deployWith(context.Background(), st, nil, kv, o)
		require.NoError(t, err)
		ids = append(ids, rec.ID)
	}
	dirs, err := backupDirs(context.Background(), st, newLocation("site", "www"))
	require.NoError(t, err)
	assert.ElementsMatch(t, ids[2:], dirs, "the live release and the one a rollback goes back to")
	assert.Equal(t, ids[3], kv.live())
}

func TestAtomic_OptionsAreCheckedBeforeAnyChange(t *testing.T) {
	for _, tc := range []struct {
		name          string
		edit          func(*Options)
		want, setting string
	}{
		{"no store", func(o *Options) { o.Atomic.KeyValueStore = "" }, "needs the CloudFront KeyValueStore", "Atomic.KeyValueStore"},
		{"a name, not an ARN", func(o *Options) { o.Atomic.KeyValueStore = "site-pointer" }, "not a CloudFront KeyValueStore ARN", "Atomic.KeyValueStore"},
		{"an invalidation", func(o *Options) { o.DistributionID = "E1" }, "leave the distribution out", "DistributionID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, kv := newMemStore("site"), newMemKVS()
			o := atomicOptions(writeTree(t, siteV1()))
			tc.edit(&o)
			_, err := deployWith(context.Background(), st, nil, kv, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, []string{tc.setting}, settingsOf(err))
			assert.NotContains(t, err.Error(), "--", "the engine names the setting, not a flag")
			assert.Empty(t, st.changes())
			assert.Zero(t, kv.puts)
		})
	}
}
