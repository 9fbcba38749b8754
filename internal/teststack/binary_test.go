package teststack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBinary_MissingToolTellsToRunMakeTools(t *testing.T) {
	t.Setenv(binDirEnv, t.TempDir())
	_, err := binary("versitygw")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "versitygw not found in .cache/bin: run make tools")
}

func TestBinary_FindsToolsInTheRepositoryCache(t *testing.T) {
	t.Setenv(binDirEnv, "")
	root, err := repoRoot()
	require.NoError(t, err)
	assert.FileExists(t, root+"/go.mod")
}
