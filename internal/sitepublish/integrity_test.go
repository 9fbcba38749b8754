package sitepublish

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On a server that keeps no SHA-256 checksums, the bytes themselves are
// read back: a changed stored copy is still found, and never trusted.
func TestBackup_WithoutServerChecksumsStoredCopiesAreCheckedByTheirBytes(t *testing.T) {
	for _, noChecksums := range []bool{false, true} {
		t.Run(map[bool]string{false: "S3 checksums", true: "no S3 checksums"}[noChecksums], func(t *testing.T) {
			st := newMemStore("site", "backups")
			st.noChecksums = noChecksums
			deployMem(t, st, siteV1())
			deployMem(t, st, siteV2())
			v2 := st.snapshot("site", "www/")
			st.rewrite("backups", storedKey(aboutV1), []byte("<html>ABOUT V1</html>"))

			rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2NewPages())))
			require.NoError(t, err)
			require.Equal(t, "succeeded", rec.Outcome)
			assert.Equal(t, aboutV1, st.objects("backups", "")[storedKey(aboutV1)], "copied again from the live site")

			_, err = rollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: backupID(t, rec.Frontend.BackupURI)})
			require.NoError(t, err)
			assert.Equal(t, v2, st.snapshot("site", "www/"))
		})
	}
}

func TestRollback_WithoutServerChecksumsAChangedStoredCopyIsRefusedBeforeAnyChange(t *testing.T) {
	st := newMemStore("site", "backups")
	st.noChecksums = true
	deployMem(t, st, siteV1())
	rec, err := deploy(context.Background(), st, nil, memOptions(writeTree(t, siteV2())))
	require.NoError(t, err)
	st.rewrite("backups", storedKey("<html>v1</html>"), []byte("<html>V1</html>"))
	st.log = nil

	_, err = rollback(context.Background(), st, nil, RollbackOptions{Bucket: "site", Prefix: "www", BackupBucket: "backups", Backup: backupID(t, rec.Frontend.BackupURI)})
	require.Error(t, err)
	assert.ErrorIs(t, err, errIntegrity)
	assert.Contains(t, err.Error(), "index.html (stored as")
	assert.Empty(t, st.changes(), "nothing was changed, not even a backup taken")
	assert.Equal(t, siteV2(), st.snapshot("site", "www/"))
}
