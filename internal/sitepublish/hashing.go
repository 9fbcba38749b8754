package sitepublish

import (
	"context"
	"fmt"
	"time"
)

// hashing is the build being hashed in the background while the deploy
// lock is taken and the site is listed: neither needs the other, and a
// one-file release of a large site spends most of its time on the two.
// The checks that need no hashing (links, special files, an empty build)
// ran before it started.
type hashing struct {
	started  time.Time
	done     chan struct{}
	cancel   context.CancelFunc
	files    []localFile
	err      error
	took     time.Duration
	recorded bool
}

func startHashing(ctx context.Context, o Options) (*hashing, error) {
	started := time.Now()
	cm, err := newCacheMatcher(o.CacheControl)
	if err != nil {
		return nil, err
	}
	walked, err := walkDir(o.Dir)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithCancel(ctx)
	h := &hashing{started: started, done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(h.done)
		h.files, h.err = hashFiles(hctx, walked, cm, o.Precompress, o.Concurrency, o.report())
		h.took = time.Since(started)
	}()
	return h, nil
}

// wait returns the hashed build; the first call records the hash step and
// the build digest.
func (h *hashing) wait(r *run, o Options) ([]localFile, error) {
	<-h.done
	if !h.recorded {
		h.recorded = true
		r.stepTook("hash", h.started, h.took, h.err, fmt.Sprintf("%d files in %s", len(h.files), o.Dir))
		if h.err == nil {
			r.rec.Frontend.BuildDigest = buildDigest(h.files)
		}
	}
	if h.err != nil {
		return nil, fmt.Errorf("read the build: %w", h.err)
	}
	return h.files, nil
}

// stop cancels the hashing if it still runs and waits for it.
func (h *hashing) stop() {
	h.cancel()
	<-h.done
}
