package ecsdeploy

import (
	"bytes"
	"io"
	"sync"
)

// outMu serializes the prefixed writers, so the lines of services rolling
// out in parallel never mix within a line.
var outMu sync.Mutex

// prefixed returns a writer that starts every line written to out with
// prefix ("[worker] "), for the output of one service among several.
func prefixed(out io.Writer, prefix string) io.Writer {
	if out == nil || out == io.Discard {
		return io.Discard
	}
	return &prefixWriter{out: out, prefix: []byte(prefix), lineStart: true}
}

type prefixWriter struct {
	out       io.Writer
	prefix    []byte
	lineStart bool
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	outMu.Lock()
	defer outMu.Unlock()
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if w.lineStart {
			b.Write(w.prefix)
		}
		b.Write(line)
		w.lineStart = line[len(line)-1] == '\n'
	}
	if _, err := w.out.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
