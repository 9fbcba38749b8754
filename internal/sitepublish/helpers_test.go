package sitepublish

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeTree writes files (slash path → content) into a new temp folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func siteV1() map[string]string {
	return map[string]string{
		"index.html":                "<html>v1</html>",
		"about/index.html":          "<html>about v1</html>",
		"assets/app-1a2b3c4d.js":    "console.log(1)",
		"assets/style-9f8e7d6c.css": "body{}",
		"old.txt":                   "stale",
	}
}

func siteV2() map[string]string {
	return map[string]string{
		"index.html":                "<html>v2</html>",
		"about/index.html":          "<html>about v1</html>",
		"assets/app-5e6f7a8b.js":    "console.log(2)",
		"assets/style-9f8e7d6c.css": "body{}",
		"new.txt":                   "fresh",
	}
}
