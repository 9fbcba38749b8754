package sitepublish

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncWriter lets the meter's goroutine and the test share a buffer.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// A release prints progress lines for its long steps instead of a line per
// file; --list-files brings the per-file lines back.
func TestDeploy_PrintsProgressNotOneLinePerFile(t *testing.T) {
	saved := progressEvery
	progressEvery = 20 * time.Millisecond
	t.Cleanup(func() { progressEvery = saved })
	files := map[string]string{}
	for i := range 300 {
		files[fmt.Sprintf("assets/f%03d.js", i)] = fmt.Sprint(i)
	}
	files["index.html"] = "<html></html>"
	st := newMemStore("site", "backups")
	st.afterPut = func(string) { time.Sleep(2 * time.Millisecond) } // slow enough for the meter to tick
	var out syncWriter
	o := memOptions(writeTree(t, files))
	o.Out = &out
	_, err := deploy(context.Background(), st, nil, o)
	require.NoError(t, err)
	got := out.String()
	assert.NotContains(t, got, "uploaded assets/f001.js", "no per-file lines by default")
	assert.Regexp(t, regexp.MustCompile(`(?m)^    upload +\d+/301 \(\d+%\), \d+/s, \d+s elapsed$`), got)
	assert.Less(t, strings.Count(got, "\n"), 301, "fewer lines than files")

	var verbose syncWriter
	o = memOptions(writeTree(t, map[string]string{"index.html": "<html>2</html>", "a.txt": "a"}))
	o.Out, o.ListFiles = &verbose, true
	_, err = deploy(context.Background(), newMemStore("site", "backups"), nil, o)
	require.NoError(t, err)
	assert.Contains(t, verbose.String(), "uploaded a.txt")
}
