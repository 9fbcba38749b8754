package lambdadeploy_test

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
)

var testTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestZipDir_TheSameFilesMakeTheSameZip(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "lib"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lib", "data.json"), []byte(`{}`), 0o644))
	first, err := lambdadeploy.ZipDir(dir)
	require.NoError(t, err)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "bootstrap"), testTime, testTime))
	second, err := lambdadeploy.ZipDir(dir)
	require.NoError(t, err)
	assert.Equal(t, first, second, "a touched file changes nothing")

	zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	require.NoError(t, err)
	require.Len(t, zr.File, 2)
	assert.Equal(t, "bootstrap", zr.File[0].Name)
	assert.Equal(t, os.FileMode(0o755), zr.File[0].Mode().Perm(), "executables stay executable")
	assert.Equal(t, "lib/data.json", zr.File[1].Name)
}

func TestZipDir_RefusesLinksAndEmptyFolders(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("x"), 0o755))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")))
	_, err := lambdadeploy.ZipDir(dir)
	assert.ErrorContains(t, err, "links or special files, which a zip package cannot hold safely: passwd")

	_, err = lambdadeploy.ZipDir(t.TempDir())
	assert.ErrorContains(t, err, "empty")
}
