package sitepublish

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progressEvery is how often a long step prints where it is.
var progressEvery = 3 * time.Second

// report is where a run's lines go: progress and step summaries always,
// one line per file only when files is set (--list-files); ten thousand
// "uploaded" lines drown what matters.
type report struct {
	out   io.Writer
	files bool
}

// file prints a per-file line when they are asked for.
func (r report) file(format string, args ...any) {
	if r.files {
		fmt.Fprintf(r.out, format, args...)
	}
}

// meter prints "step done/total (pct), rate, elapsed" every progressEvery
// while a long step runs; stop ends it. A step that ends before the first
// tick prints nothing: its summary line says it all.
type meter struct {
	step  string
	total int
	done  atomic.Int64
	start time.Time
	quit  chan struct{}
	wg    sync.WaitGroup
}

func (r report) meter(step string, total int) *meter {
	m := &meter{step: step, total: total, start: time.Now(), quit: make(chan struct{})}
	if total == 0 || r.out == io.Discard {
		close(m.quit)
		return m
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-m.quit:
				return
			case <-t.C:
				fmt.Fprintln(r.out, m.line())
			}
		}
	}()
	return m
}

// tick counts one item done; it is safe for concurrent use and on nil.
func (m *meter) tick() {
	if m != nil {
		m.done.Add(1)
	}
}

func (m *meter) stop() {
	if m == nil {
		return
	}
	select {
	case <-m.quit:
	default:
		close(m.quit)
	}
	m.wg.Wait()
}

func (m *meter) line() string {
	done, elapsed := m.done.Load(), time.Since(m.start)
	rate := float64(done) / elapsed.Seconds()
	return fmt.Sprintf("    %-8s %d/%d (%d%%), %.0f/s, %s elapsed", m.step, done, m.total, done*100/int64(m.total), rate, elapsed.Round(time.Second))
}
