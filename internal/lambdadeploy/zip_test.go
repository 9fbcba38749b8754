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

// 400 MB of zeros zips to under half a megabyte, and Lambda takes no more
// than 250 MB unzipped: the folder is refused by its size before anything
// is read (the file is sparse: nothing is written to disk).
func TestZipDir_RefusesMoreThanLambdaTakesUnzipped(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("x"), 0o755))
	f, err := os.Create(filepath.Join(dir, "zeros"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(400<<20))
	require.NoError(t, f.Close())
	_, err = lambdadeploy.ZipDir(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "400.0 MB unzipped, more than the 250 MB Lambda takes")
	assert.Contains(t, err.Error(), "container image")
}

// A zip built elsewhere is measured by what it unzips to, before the
// function's configuration or code changes.
func TestDeploy_RefusesAZipOverLambdasUnzippedLimit(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "zeros", Method: zip.Store, UncompressedSize64: 400 << 20, CompressedSize64: 1}
	w, err := zw.CreateRaw(h)
	require.NoError(t, err)
	_, err = w.Write([]byte{0})
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	e := newEnv(t)
	o := e.opts("")
	o.Zip, o.Environment = buf.Bytes(), map[string]string{"LOG_LEVEL": "debug"}
	for name, err := range map[string]error{
		"preflight": lambdadeploy.Preflight(t.Context(), e.clients, o),
		"deploy":    func() error { _, err := lambdadeploy.Deploy(t.Context(), e.clients, o); return err }(),
	} {
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "release of function resize: nothing was changed", name)
		assert.Contains(t, err.Error(), "the package is 400.0 MB unzipped, more than the 250 MB Lambda takes", name)
	}
	assert.Zero(t, e.sim.Count("lambda", "UpdateFunctionConfiguration")+e.sim.Count("lambda", "UpdateFunctionCode"))
}
