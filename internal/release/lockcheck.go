package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// LostLockError says a held lock is no longer this acquisition's: someone
// deleted it by hand or broke it, and perhaps another deploy took it since.
// A deploy that gets it must stop changing what the lock guards: whoever
// holds the lock now may have released since.
type LostLockError struct {
	Name string
	URI  string
	// Holder is who holds the lock now; nil when it is free (or it changed
	// again while it was read).
	Holder *Holder
}

func (e *LostLockError) Error() string {
	msg := fmt.Sprintf("deploy lock %q (%s) is no longer this deploy's: it was deleted by hand or broken by another run", e.Name, e.URI)
	if h := e.Holder; h != nil {
		msg += fmt.Sprintf(", and is now held by %s since %s", h.Who, h.Since.UTC().Format(time.RFC3339))
		if h.What != "" {
			msg += fmt.Sprintf(" for %q", h.What)
		}
	}
	return msg
}

// Is makes a *LostLockError match ErrLockLost.
func (e *LostLockError) Is(target error) bool { return target == ErrLockLost }

func (l *Lock) lost(h *Holder) error { return &LostLockError{Name: l.Name, URI: l.URI, Holder: h} }

// Check returns nil while the lock object is still the one this
// acquisition wrote, and a *LostLockError once it is not (deleted, broken,
// taken by another deploy, or released). It reads the lock with If-Match on
// the ETag this acquisition wrote, and compares the acquisition's token too,
// so a server that ignores the condition is caught as well. It writes
// nothing. Call it before every step that changes what the lock guards: a
// step that began before the lock was lost still completes, so steps should
// be short.
func (l *Lock) Check(ctx context.Context) error {
	if l == nil || l.store == nil {
		return errors.New("check lock: no lock held")
	}
	if l.released {
		return l.lost(nil)
	}
	cur, _, err := l.store.readLockIf(ctx, l.key, l.etag)
	switch {
	case isNotFound(err):
		return l.lost(nil)
	case isPreconditionFailed(err):
		if cur, _, err := l.store.readLock(ctx, l.key); err == nil {
			return l.lost(&cur.Holder)
		}
		return l.lost(nil)
	case err != nil:
		return fmt.Errorf("check lock %s: read %s: %w", l.Name, l.URI, err)
	case cur.Token != l.token:
		return l.lost(&cur.Holder)
	}
	return nil
}

// BreakRefusedError is returned by Acquire asked to break a held lock on a
// server that ignores If-Match on DeleteObject (MinIO): two runs breaking it
// at once could both take it, so it must be cleared by hand. It names the
// holder and, when the holder's lock names one, the backup that puts back
// what the holder's release changed: a release that died wrote no record,
// so after the lock is deleted by hand the records alone would go one
// release too far back.
type BreakRefusedError struct {
	Name, URI, Bucket string
	Holder            Holder
	// BackupID is the id of Holder.Backup (its last path segment, a
	// release id); "" when the lock names no backup.
	BackupID string
}

func (e *BreakRefusedError) Error() string {
	msg := fmt.Sprintf("break lock %s: the S3 server of bucket %s ignores If-Match on DeleteObject, so two runs breaking the lock at once could both take it; "+
		"it is held by %s since %s", e.Name, e.Bucket, e.Holder.Who, e.Holder.Since.UTC().Format(time.RFC3339))
	if e.Holder.What != "" {
		msg += fmt.Sprintf(" for %q", e.Holder.What)
	}
	msg += fmt.Sprintf(": check that no deploy runs, delete %s by hand, then run again without breaking the lock", e.URI)
	if e.BackupID != "" {
		msg += fmt.Sprintf("; if its release died midway, restore backup %s (%s), which puts back what it changed: "+
			"it wrote no record, so the records alone would go one release too far back", e.BackupID, e.Holder.Backup)
	}
	return msg
}

// backupID is the last path segment of a backup URI (s3://bucket/root/<id>/).
func backupID(uri string) string {
	uri = strings.TrimSuffix(uri, "/")
	if uri == "" || !strings.Contains(uri, "/") {
		return uri
	}
	return uri[strings.LastIndex(uri, "/")+1:]
}
