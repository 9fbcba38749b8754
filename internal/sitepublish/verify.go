package sitepublish

import (
	"context"
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

// verifyLocation lists dst and checks it holds exactly want's paths with the
// same content: equal sizes, and equal MD5 ETags or else (per mode) the same
// ETag as our write or a SHA-256 of the bytes read back.
//
// It returns dst's listing with want's hashes and headers filled in, ready to
// be written as dst's manifest.
func verifyLocation(ctx context.Context, st objectStore, want remoteSet, dst location, mode verifyMode, conc int, rep report) (remoteSet, error) {
	got, err := listLocation(ctx, st, dst)
	if err != nil {
		return nil, err
	}
	m := rep.meter("verify", len(want))
	defer m.stop()
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			report("%s: unexpected object", rel)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for _, rel := range want.sortedKeys() {
		m.tick()
		w, g2 := want[rel], got[rel]
		switch {
		case g2.Key == "":
			report("%s: missing", rel)
		case w.Size != g2.Size:
			report("%s: size %d, want %d", rel, g2.Size, w.Size)
		case w.ETag != "" && w.ETag == g2.ETag && (w.singlePart() || mode == sameObject):
			// Same MD5, or (after our own write) the very object we wrote.
		default:
			// Different or multipart ETags (copies, SSE-KMS): read the bytes back.
			g.Go(func() error {
				h, err := readHash(gctx, st, dst.Bucket, g2.Key)
				if err != nil {
					return err
				}
				if h != w.SHA256 {
					report("%s: sha256 %s, want %s", rel, h, w.SHA256)
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("verify %s: %w", dst, err)
	}
	if len(problems) > 0 {
		more := ""
		if len(problems) > 5 {
			more = fmt.Sprintf(" (and %d more)", len(problems)-5)
			problems = problems[:5]
		}
		return nil, fmt.Errorf("verify %s: %w: %s%s", dst, errVerify, strings.Join(problems, "; "), more)
	}
	for rel, o := range got {
		o.SHA256, o.Headers = want[rel].SHA256, want[rel].Headers
		got[rel] = o
	}
	return got, nil
}

// verifyHeaders HEADs rels under loc and checks each has the Content-Type,
// Cache-Control and Content-Encoding that want records. verifyLocation
// compares bytes only; a restore also checks the headers of what it copied
// (the paths it did not copy already had the recorded headers).
func verifyHeaders(ctx context.Context, st objectStore, loc location, rels []string, want remoteSet, conc int) error {
	var mu sync.Mutex
	var problems []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for _, rel := range rels {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			got, err := st.Head(gctx, loc.Bucket, loc.key(rel))
			if err != nil {
				return err
			}
			if got.Headers.sig() != want[rel].Headers.sig() {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s: headers %q, want %q", rel, got.Headers.sig(), want[rel].Headers.sig()))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("verify headers in %s: %w", loc, err)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		more := ""
		if len(problems) > 5 {
			more = fmt.Sprintf(" (and %d more)", len(problems)-5)
			problems = problems[:5]
		}
		return fmt.Errorf("verify %s: %w: %s%s", loc, errVerify, strings.Join(problems, "; "), more)
	}
	return nil
}
