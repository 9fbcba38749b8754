package gitrev_test

import (
	"testing"
	"testing/fstest"

	"github.com/futuraplataforma/esteira/internal/gitrev"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sha = "8f7ec8d0c2b44a1e9f0d3c6b7a5e4f3d2c1b0a99"

func TestHead(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    string
		wantErr string
	}{
		{"branch with a loose ref", fstest.MapFS{
			"HEAD":            {Data: []byte("ref: refs/heads/main\n")},
			"refs/heads/main": {Data: []byte(sha + "\n")},
		}, sha, ""},
		{"branch in packed-refs", fstest.MapFS{
			"HEAD":        {Data: []byte("ref: refs/heads/release\n")},
			"packed-refs": {Data: []byte("# pack-refs with: peeled fully-peeled sorted\n" + sha + " refs/heads/release\n")},
		}, sha, ""},
		{"detached HEAD as CI checks out", fstest.MapFS{
			"HEAD": {Data: []byte(sha + "\n")},
		}, sha, ""},
		{"no repository", fstest.MapFS{}, "", "no .git folder"},
		{"unborn branch", fstest.MapFS{
			"HEAD": {Data: []byte("ref: refs/heads/main\n")},
		}, "", "has no commit yet"},
		{"garbage HEAD", fstest.MapFS{
			"HEAD": {Data: []byte("hello\n")},
		}, "", "neither a commit id nor a ref"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gitrev.Head(tt.files)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Equal(t, "8f7ec8d0c2b4", gitrev.Short(sha))
}
