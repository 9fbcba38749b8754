package release

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// DefaultStaleAfter is how old a lock must be before it is reported as stale.
const DefaultStaleAfter = time.Hour

// Holder says who holds a lock and what for.
type Holder struct {
	Who   string    `json:"who"`   // user@host or the CI job's URL
	What  string    `json:"what"`  // e.g. "backend deploy prod/api image@sha256:…"
	Since time.Time `json:"since"` // when the lock was taken; Acquire sets it to now when zero
	// Backup, for a frontend release, is the backup (s3://...) that restores
	// the site as it was before it: what a rollback after breaking this lock
	// must restore, since a release killed mid-publish writes no record.
	Backup string `json:"backup,omitempty"`
}

// LockOptions tunes Acquire.
type LockOptions struct {
	// StaleAfter is the age after which a held lock is reported as stale; 1h when zero.
	StaleAfter time.Duration
	// Break removes a lock that is held. A lock is never broken without it.
	Break bool
	// Nested (Guard.Lock) also refuses while a lock whose name encloses
	// this one or lies inside it is held: sites nested in one bucket.
	Nested bool
}

// LockedError is returned by Acquire when another deploy holds the lock.
type LockedError struct {
	Name   string
	Holder Holder
	Stale  bool
}

func (e *LockedError) Error() string {
	age := time.Since(e.Holder.Since).Round(time.Second)
	held := fmt.Sprintf("deploy lock %q is held by %s since %s (%s ago)",
		e.Name, e.Holder.Who, e.Holder.Since.UTC().Format(time.RFC3339), age)
	if e.Holder.What != "" {
		held += fmt.Sprintf(" for %q", e.Holder.What)
	}
	if e.Stale {
		return held + ": it looks stale; check that no deploy is still running, then break it"
	}
	return held + ": wait for that deploy to finish, or if you are sure it is no longer running, break it"
}

// Lock is a held deploy lock. Release it when the deploy ends.
type Lock struct {
	Name   string
	Holder Holder
	URI    string // s3://bucket/<prefix>/locks/<name>.json
	// Broke is the holder of the lock that Acquire broke to take this one
	// (LockOptions.Break), nil when the lock was free.
	Broke *Holder

	store    *Store
	key      string
	token    string
	etag     string // of the lock object as this acquisition last wrote it; "" when the server sent none
	released bool
}

// lockBody is the lock object's content. Token makes every acquisition's
// bytes, and so its ETag, unique even for the same holder and second.
type lockBody struct {
	Holder
	Token string `json:"token"`
}

// Acquire takes the lock called name for h. When the lock is held it returns
// a *LockedError naming the holder (Stale when older than o.StaleAfter),
// unless o.Break is set: then the held lock, stale or not, is deleted only if
// it has not changed since it was read, and taking it is tried once more; if
// another deploy wins that race, its holder is named in a *LockedError. On a
// server that ignores If-Match on DeleteObject a held lock is never broken:
// a *BreakRefusedError says how to clear it by hand.
func (s *Store) Acquire(ctx context.Context, name string, h Holder, o LockOptions) (*Lock, error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := validatePath("lock name", name); err != nil {
		return nil, err
	}
	if h.Who == "" {
		return nil, fmt.Errorf("acquire lock %s: holder's Who is empty: set it to user@host or the CI job URL", name)
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	cond, err := s.conditionals(ctx)
	if err != nil {
		return nil, err
	}
	if !cond.createOnce {
		return nil, fmt.Errorf("acquire lock %s: the S3 server of bucket %s ignores If-None-Match on PutObject, so two deploys could both take the lock: "+
			"keep the release store on AWS S3 or on a server that honours conditional writes (versitygw does), or go without one (no lock, no records)", name, s.bucket)
	}
	if h.Since.IsZero() {
		h.Since = time.Now().UTC()
	}
	l := &Lock{Name: name, Holder: h, store: s, key: s.prefix + "/locks/" + name + ".json", token: newToken()}
	l.URI = s.uri(l.key)
	var broke *Holder
	for attempt := 0; attempt < 4; attempt++ {
		taken, err := l.create(ctx)
		if err != nil || taken {
			l.Broke = broke
			return l.orNil(taken), err
		}
		cur, etag, err := s.readLock(ctx, l.key)
		if isNotFound(err) {
			continue // released between our write and our read: try again
		}
		if err != nil {
			return nil, fmt.Errorf("read holder of lock %s: %w", name, err)
		}
		if cur.Token == l.token { // our write landed but its answer was lost and the SDK retried
			l.Broke, l.etag = broke, etag
			return l, nil
		}
		stale := time.Since(cur.Since) > o.StaleAfter
		if broke != nil { // taken again after we broke it: another run breaks too
			return nil, &LockedError{Name: name, Holder: cur.Holder, Stale: stale}
		}
		if !o.Break {
			return nil, setting.Of("BreakLock", &LockedError{Name: name, Holder: cur.Holder, Stale: stale})
		}
		if !cond.deleteMatch {
			return nil, &BreakRefusedError{Name: name, URI: l.URI, Bucket: s.bucket, Holder: cur.Holder, BackupID: backupID(cur.Backup)}
		}
		if err := s.breakLock(ctx, name, l.key, etag); err != nil {
			return nil, err
		}
		held := cur.Holder
		broke = &held
	}
	return nil, fmt.Errorf("acquire lock %s: it kept changing hands while we tried; try again", name)
}

func (l *Lock) orNil(taken bool) *Lock {
	if taken {
		return l
	}
	return nil
}

// create writes the lock object if none exists. It reports false when one does.
func (l *Lock) create(ctx context.Context) (bool, error) {
	body, err := json.MarshalIndent(lockBody{Holder: l.Holder, Token: l.token}, "", "  ")
	if err != nil {
		return false, fmt.Errorf("encode lock %s: %w", l.Name, err)
	}
	out, err := l.store.api.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(l.store.bucket),
		Key:         aws.String(l.key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
		IfNoneMatch: aws.String("*"),
	})
	if isPreconditionFailed(err) || isConditionalConflict(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("write lock %s: %w", l.URI, err)
	}
	l.etag = aws.ToString(out.ETag)
	return true, nil
}

// breakLock deletes the lock at key only if its ETag is still etag.
func (s *Store) breakLock(ctx context.Context, name, key, etag string) error {
	_, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), IfMatch: aws.String(etag),
	})
	switch {
	case err == nil, isNotFound(err):
		return nil
	case isPreconditionFailed(err):
		cur, _, rerr := s.readLock(ctx, key)
		if rerr != nil {
			return fmt.Errorf("break lock %s: it changed while we were breaking it; left it alone", name)
		}
		return &LockedError{Name: name, Holder: cur.Holder}
	default:
		return fmt.Errorf("break lock %s: %w", name, err)
	}
}

// readLock returns the lock object at key and its ETag.
func (s *Store) readLock(ctx context.Context, key string) (lockBody, string, error) {
	return s.readLockIf(ctx, key, "")
}

// readLockIf is readLock sent with If-Match: etag when etag is not empty
// (S3 then answers 412 when the object has another ETag).
func (s *Store) readLockIf(ctx context.Context, key, etag string) (lockBody, string, error) {
	var lb lockBody
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if etag != "" {
		in.IfMatch = aws.String(etag)
	}
	out, err := s.api.GetObject(ctx, in)
	if err != nil {
		return lb, "", err
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, 1<<20))
	if err != nil {
		return lb, "", err
	}
	if err := json.Unmarshal(data, &lb); err != nil {
		return lb, "", fmt.Errorf("decode %s: %w", s.uri(key), err)
	}
	return lb, aws.ToString(out.ETag), nil
}

// ErrLockLost is wrapped by Release when the lock is no longer ours.
var ErrLockLost = errors.New("lock is no longer ours")

// Release deletes the lock if it is still the one this Lock wrote. When
// someone broke it (and perhaps took it again) their lock is left in place
// and the error, wrapping ErrLockLost, says so.
func (l *Lock) Release(ctx context.Context) error {
	if l == nil || l.store == nil {
		return errors.New("release lock: no lock held")
	}
	if l.released {
		return nil
	}
	s := l.store
	for attempt := 1; ; attempt++ {
		// Read first: a conditional DELETE of a missing object succeeds silently,
		// so only the read tells us the lock was broken, and it names the new
		// holder. The If-Match then guards the window between read and delete
		// (AWS S3 and versitygw v1.8.0 both answer 412 on an ETag mismatch).
		cur, etag, err := s.readLock(ctx, l.key)
		if isNotFound(err) {
			return fmt.Errorf("release lock %s: %w", l.Name, l.lost(nil))
		}
		if err != nil {
			return fmt.Errorf("release lock %s: read %s: %w", l.Name, l.URI, err)
		}
		if cur.Token != l.token { // the token is unique to this acquisition
			return l.lostTo(cur.Holder)
		}
		_, err = s.api.DeleteObject(ctx, &s3.DeleteObjectInput{
			Bucket: aws.String(s.bucket), Key: aws.String(l.key), IfMatch: aws.String(etag),
		})
		if isConditionalConflict(err) && attempt < 3 {
			continue // S3's 409: another write or delete of the key raced ours, which did nothing; look again
		}
		if isPreconditionFailed(err) {
			cur, _, _ = s.readLock(ctx, l.key)
			return l.lostTo(cur.Holder)
		}
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("release lock %s: delete %s: %w (the lock is still held: break it once no deploy runs)", l.Name, l.URI, err)
		}
		l.released = true
		return nil
	}
}

func (l *Lock) lostTo(h Holder) error {
	return fmt.Errorf("release lock %s: %w; left their lock in place", l.Name, l.lost(&h))
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
