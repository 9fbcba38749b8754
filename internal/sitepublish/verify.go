package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// verifyMode says how objects whose ETags are not plain MD5s are checked.
type verifyMode int

const (
	// sameObject: the ETag we got from our own write (or listing) must still
	// be there; used after a publish, where we wrote the objects ourselves.
	sameObject verifyMode = iota
	// sameBytes: copies get new multipart ETags, so such objects are read
	// back and their SHA-256 compared; used for backups and restores.
	sameBytes
)

// verifyChanged checks, with one HEAD each, that every written path holds
// what want records (its size; its SHA-256 as S3 computed it when it keeps
// one, else the ETag of our own write, or per mode an equal MD5 ETag or the
// SHA-256 of the bytes read back; its Content-Type, Cache-Control and
// Content-Encoding) and that every deleted path is gone. Bytes that differ
// from the recorded ones fail it with errIntegrity too.
// The paths a release did not touch are as the plan's listing found them:
// the deploy lock keeps other releases out, so listing the whole site again
// would only repeat it. Written paths get the ETag S3 now reports in want.
func verifyChanged(ctx context.Context, st objectStore, loc location, want remoteSet, written, deleted []string, mode verifyMode, conc int, rep report) error {
	if mode == sameObject && len(written)+len(deleted) > listInsteadOfHeads {
		return verifyListed(ctx, st, loc, want, written, deleted)
	}
	m := rep.meter("verify", len(written)+len(deleted))
	defer m.stop()
	var mu sync.Mutex
	var problems []string
	differ := false // some bytes are not the recorded ones
	report := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	etags := make([]string, len(written))
	for i, rel := range written {
		w := want[rel]
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			got, err := st.Head(gctx, loc.Bucket, loc.key(rel))
			switch {
			case errors.Is(err, errNotFound):
				report("%s: missing", rel)
				return nil
			case err != nil:
				return err
			case got.Size != w.Size:
				report("%s: size %d, want %d", rel, got.Size, w.Size)
				return nil
			case got.Headers.sig() != w.Headers.sig():
				report("%s: headers %q, want %q", rel, got.Headers.sig(), w.Headers.sig())
				return nil
			}
			if got.SHA256 != "" || !(w.ETag != "" && w.ETag == got.ETag && (w.singlePart() || mode == sameObject)) {
				h, err := storedSHA256(gctx, st, loc.Bucket, got)
				if err != nil {
					return err
				}
				if h != w.SHA256 {
					mu.Lock()
					differ = true
					mu.Unlock()
					report("%s: sha256 %s, want %s", rel, h, w.SHA256)
					return nil
				}
			}
			etags[i] = got.ETag
			m.tick()
			return nil
		})
	}
	for _, rel := range deleted {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			_, err := st.Head(gctx, loc.Bucket, loc.key(rel))
			switch {
			case errors.Is(err, errNotFound):
				m.tick()
				return nil
			case err != nil:
				return err
			}
			report("%s: still there after its delete", rel)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("verify %s: %w", loc, err)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		text := strings.Join(problems[:min(5, len(problems))], "; ") + moreText(len(problems)-5)
		if differ {
			return fmt.Errorf("verify %s: %w: %w: %s", loc, errVerify, errIntegrity, text)
		}
		return fmt.Errorf("verify %s: %w: %s", loc, errVerify, text)
	}
	for i, rel := range written {
		w := want[rel]
		w.Key, w.ETag = loc.key(rel), etags[i]
		want[rel] = w
	}
	return nil
}

// listInsteadOfHeads: past this many changed paths, one listing of the
// site is cheaper than a HEAD each.
const listInsteadOfHeads = 1000

// verifyListed is verifyChanged for a large publish: one listing, and each
// written path must be listed with its size and the ETag of our own write
// (that very object: its headers came with it), each deleted one not at all.
func verifyListed(ctx context.Context, st objectStore, loc location, want remoteSet, written, deleted []string) error {
	got, err := listLocation(ctx, st, loc)
	if err != nil {
		return fmt.Errorf("verify %s: %w", loc, err)
	}
	var problems []string
	for _, rel := range written {
		w, g := want[rel], got[rel]
		switch {
		case g.Key == "":
			problems = append(problems, rel+": missing")
		case g.Size != w.Size:
			problems = append(problems, fmt.Sprintf("%s: size %d, want %d", rel, g.Size, w.Size))
		case g.ETag != w.ETag:
			problems = append(problems, fmt.Sprintf("%s: ETag %s, not the one of our upload (%s)", rel, g.ETag, w.ETag))
		}
	}
	for _, rel := range deleted {
		if _, ok := got[rel]; ok {
			problems = append(problems, rel+": still there after its delete")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("verify %s: %w: %s%s", loc, errVerify, strings.Join(problems[:min(5, len(problems))], "; "), moreText(len(problems)-5))
	}
	return nil
}
