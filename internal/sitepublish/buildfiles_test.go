package sitepublish

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deployWithin deploys dir to a fresh memStore, failing the test if the
// deploy has not returned within 10 s (a FIFO used to hang it forever).
func deployWithin(t *testing.T, dir string) (*memStore, error) {
	t.Helper()
	st := newMemStore("site", "backups")
	done := make(chan error, 1)
	go func() {
		_, err := deploy(context.Background(), st, nil, memOptions(dir))
		done <- err
	}()
	select {
	case err := <-done:
		return st, err
	case <-time.After(10 * time.Second):
		t.Fatal("the deploy hangs")
		return nil, nil
	}
}

// Nothing outside the build folder is ever read or published: a link that
// leaves it is refused by name before any change, whatever it points at.
func TestDeploy_RefusesLinksThatLeaveTheBuild(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "id_rsa")
	require.NoError(t, os.WriteFile(outside, []byte("PRIVATE KEY"), 0o600))
	for name, target := range map[string]string{
		"passwd":  "/etc/passwd",
		"private": outside,
		"environ": "/proc/self/environ",
		"parent":  "../../outside.txt",
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeTree(t, siteV1())
			require.NoError(t, os.Symlink(target, filepath.Join(dir, "assets-leak.txt")))
			st, err := deployWithin(t, dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "assets-leak.txt")
			assert.Contains(t, err.Error(), "nothing was changed")
			assert.Empty(t, st.changes())
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
}

func TestDeploy_RefusesFIFOsDevicesAndFolderLinksByName(t *testing.T) {
	dir := writeTree(t, siteV1())
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "real"), 0o755))
	require.NoError(t, os.Symlink("real", filepath.Join(dir, "alias")))
	if err := syscall.Mknod(filepath.Join(dir, "null"), syscall.S_IFCHR|0o644, int(1<<8|3)); err != nil {
		t.Logf("no device node (%v): checking the FIFO and the folder link only", err)
	}
	st, err := deployWithin(t, dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pipe: a named pipe (FIFO)")
	assert.Contains(t, err.Error(), "alias: a symbolic link to a folder")
	if _, serr := os.Lstat(filepath.Join(dir, "null")); serr == nil {
		assert.Contains(t, err.Error(), "null: a device")
	}
	assert.Empty(t, st.changes())
}

// A link to a file inside the build is published as a copy of that file.
func TestDeploy_PublishesALinkInsideTheBuildAsACopy(t *testing.T) {
	dir := writeTree(t, siteV1())
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "docs"), 0o755))
	require.NoError(t, os.Symlink("../index.html", filepath.Join(dir, "docs", "index.html")))
	st, err := deployWithin(t, dir)
	require.NoError(t, err)
	got := st.snapshot("site", "www/")
	assert.Equal(t, got["index.html"], got["docs/index.html"])
	assert.NotEmpty(t, got["docs/index.html"])
}

// A file swapped for a FIFO or a link after the scan is not followed and
// does not block.
func TestOpenRegular_RefusesWhatIsNoLongerARegularFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "link")))
	for _, name := range []string{"pipe", "link"} {
		_, err := openRegular(filepath.Join(dir, name))
		require.Error(t, err, name)
	}
	many := make([]string, 15)
	for i := range many {
		many[i] = "f: x"
	}
	assert.Contains(t, refusedError("d", many).Error(), "... and 5 more")
	assert.Equal(t, 11, strings.Count(refusedError("d", many).Error(), "\n  "))
}
