package sitepublish

import (
	"context"
	"testing"
	"time"

	"github.com/futuraplataforma/esteira/internal/setting"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// settingsOf lists the settings err says to fix.
func settingsOf(err error) []string { return setting.Names(err) }

func TestStrategyFor_PicksTheStrategyFromTheAtomicSettingsAlone(t *testing.T) {
	s, err := strategyFor(nil, nil, newMemKVS())
	require.NoError(t, err)
	assert.IsType(t, inPlace{}, s, "no atomic settings: the site is released in place, whatever clients there are")

	s, err = strategyFor(&AtomicOptions{KeyValueStore: testKVS}, nil, newMemKVS())
	require.NoError(t, err)
	assert.IsType(t, atomicSite{}, s)

	_, err = strategyFor(&AtomicOptions{KeyValueStore: testKVS}, nil, nil)
	assert.ErrorContains(t, err, "no CloudFront KeyValueStore client")
}

func TestAtomicSettings_AreRefusedForASiteReleasedInPlace(t *testing.T) {
	a, err := AtomicSettings(false, "", "")
	require.NoError(t, err)
	assert.Nil(t, a, "no atomic setting: released in place")

	a, err = AtomicSettings(true, testKVS, "www")
	require.NoError(t, err)
	assert.Equal(t, &AtomicOptions{KeyValueStore: testKVS, PointerKey: "www"}, a)

	for _, tc := range []struct {
		name, kvs, key string
		want           []string
	}{
		{"a key value store", testKVS, "", []string{"Atomic", "Atomic.KeyValueStore"}},
		{"a pointer key", "", "www", []string{"Atomic", "Atomic.PointerKey"}},
		{"both", testKVS, "www", []string{"Atomic", "Atomic.KeyValueStore", "Atomic.PointerKey"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := AtomicSettings(false, tc.kvs, tc.key)
			require.Error(t, err)
			assert.Nil(t, a)
			assert.Equal(t, tc.want, settingsOf(err), "the error names the setting given and the one that would make it count")
			assert.Contains(t, err.Error(), "released in place")
			assert.Contains(t, err.Error(), "make the site atomic, or leave")
			assert.NotContains(t, err.Error(), "--")
		})
	}
}

// The engine's refusals name the setting to fix and speak of the site, not
// of a command line's flags: ci/ maps the setting to its flag.
func TestOptions_RefusalsNameTheSettingNotAFlag(t *testing.T) {
	dir := writeTree(t, siteV1())
	base := Options{Dir: dir, Bucket: "site", Prefix: "www", BackupBucket: "backups"}
	for _, tc := range []struct {
		name    string
		edit    func(*Options)
		setting string
	}{
		{"no bucket", func(o *Options) { o.Bucket = "" }, "Bucket"},
		{"a bad prefix", func(o *Options) { o.Prefix = "a//b" }, "Prefix"},
		{"a bad backup prefix", func(o *Options) { o.BackupPrefix = "../b" }, "BackupPrefix"},
		{"no backup bucket", func(o *Options) { o.BackupBucket = "" }, "BackupBucket"},
		{"a backup inside the site", func(o *Options) { o.BackupBucket, o.BackupPrefix = "site", "www/bak" }, "BackupBucket"},
		{"no build folder", func(o *Options) { o.Dir = "" }, "Dir"},
		{"a negative keep", func(o *Options) { o.Keep = -1 }, "Keep"},
		{"brotli", func(o *Options) { o.Precompress = []string{"br"} }, "Precompress"},
		{"a negative concurrency", func(o *Options) { o.Concurrency = -1 }, "Concurrency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore("site", "backups")
			o := base
			tc.edit(&o)
			_, err := deploy(context.Background(), st, nil, o)
			require.Error(t, err)
			assert.Equal(t, []string{tc.setting}, settingsOf(err))
			assert.NotContains(t, err.Error(), "--", "the engine names the setting, not a flag: %v", err)
			assert.Empty(t, st.changes())
		})
	}
}

func TestPrune_RefusalsNameTheSetting(t *testing.T) {
	st := newMemStore("site", "backups")
	_, err := prune(context.Background(), st, nil, PruneOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups"}, time.Now())
	assert.Equal(t, []string{"Keep"}, settingsOf(err))
	_, err = prune(context.Background(), st, nil, PruneOptions{Bucket: "site", Prefix: "www", Keep: 1}, time.Now())
	assert.Equal(t, []string{"BackupBucket"}, settingsOf(err))
	_, err = prune(context.Background(), st, newMemKVS(), PruneOptions{Bucket: "site", Prefix: "www", Keep: 1, Atomic: &AtomicOptions{}}, time.Now())
	assert.Equal(t, []string{"Atomic.KeyValueStore"}, settingsOf(err))
	assert.Empty(t, st.changes())
}
