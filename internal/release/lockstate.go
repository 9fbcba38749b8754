package release

import (
	"context"
	"fmt"
	"time"
)

// LockState is a deploy lock as a release would find it, read without
// taking it: what every plan and dry run shows.
type LockState struct {
	Name   string  `json:"name"`
	Holder *Holder `json:"holder,omitempty"` // nil: free
	Stale  bool    `json:"stale,omitempty"`
	// Break: the release is set to break a held lock.
	Break bool `json:"break,omitempty"`
}

// ReadLockState reads the lock name without taking it; nil without a
// store. staleAfter 0 is DefaultStaleAfter.
func ReadLockState(ctx context.Context, s *Store, name string, staleAfter time.Duration, brk bool) (*LockState, error) {
	if s == nil {
		return nil, nil
	}
	h, err := s.Held(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read the deploy lock %s: %w", name, err)
	}
	ls := &LockState{Name: name, Holder: h, Break: brk}
	if h != nil {
		if staleAfter <= 0 {
			staleAfter = DefaultStaleAfter
		}
		ls.Stale = time.Since(h.Since) > staleAfter
	}
	return ls, nil
}

// String says whether the lock is free and, if not, what a release would
// do about it.
func (l *LockState) String() string {
	if l.Holder == nil {
		return "free"
	}
	held := fmt.Sprintf("HELD by %s since %s", l.Holder.Who, l.Holder.Since.UTC().Format(time.RFC3339))
	if l.Holder.What != "" {
		held += fmt.Sprintf(" for %q", l.Holder.What)
	}
	switch {
	case l.Break:
		return held + "; it would be broken"
	case l.Stale:
		return held + " (stale); this would stop here: make sure its holder is no longer running, then break the lock"
	}
	return held + "; this would stop here: wait for its holder to finish"
}
