package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Backups are by reference (content.go). Older backups (manifest version
// 1) hold copies under their own folder: every object, or only those their
// release overwrote or deleted, whose other bytes restores find across
// later backups by SHA-256. Either way the manifest is written last, after
// the copies verified, and restores verify the result against it before
// they report success.

// copyJob copies one object; replace (optional) sets new headers; sha
// (optional) is the SHA-256 the copied bytes must have.
type copyJob struct {
	src, dst location
	srcRel   string
	dstRel   string
	replace  *headers
	sha      string
}

// copyAll runs the copies; into a live site (ordered) in upload phase
// order (assets, HTML, root index.html) so a restore never serves a page
// before its assets, into a backup all at once. A copy whose bytes S3
// hashes to another SHA-256 than the job's stops them all (errIntegrity).
func copyAll(ctx context.Context, st objectStore, jobs []copyJob, ordered bool, conc int, m *meter, onDone func(j copyJob, etag string)) error {
	byPhase := make([][]copyJob, 3)
	for _, j := range jobs {
		ph := phaseAsset
		if ordered {
			ph = phase(j.dstRel, headers{ContentType: contentType(j.dstRel)})
		}
		byPhase[ph] = append(byPhase[ph], j)
	}
	for _, group := range byPhase {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(conc)
		for _, j := range group {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				c, err := st.Copy(gctx, j.src.Bucket, j.src.key(j.srcRel), j.dst.Bucket, j.dst.key(j.dstRel), j.replace)
				if err != nil {
					return err
				}
				if j.sha != "" && c.SHA256 != "" && c.SHA256 != j.sha {
					return fmt.Errorf("%w: %s copied from %s%s has sha256 %s, want %s", errIntegrity, j.dstRel, j.src, j.srcRel, c.SHA256, j.sha)
				}
				m.tick()
				if onDone != nil {
					onDone(j, c.ETag)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// backupSite backs up the resolved live site to dst by reference: it
// copies into the root's content store the contents the store does not hold
// yet and verifies them, checks the store still holds the contents of the
// paths the release will replace (touched: what a restore after a failed
// publish copies back), then writes dst's manifest, the whole site. The
// manifest is written last and marks the backup as verified. It returns how
// many contents it copied. known is what the store holds (nil: read it).
func backupSite(ctx context.Context, st objectStore, site location, remote remoteSet, touched []string, dst location, known map[string]bool, conc int, rep report) (int, error) {
	root := backupRoot(dst)
	content := contentAt(root)
	if known == nil {
		var err error
		if known, err = storedContent(ctx, st, site, root); err != nil {
			return 0, fmt.Errorf("back up %s: %w", site, err)
		}
	}
	if err := recheckStored(ctx, st, content, remote, touched, known, conc); err != nil {
		return 0, fmt.Errorf("back up %s: %w", site, err)
	}
	n, err := storeContent(ctx, st, site, remote, known, content, conc, rep)
	if err != nil {
		return 0, fmt.Errorf("back up %s to %s: %w", site, dst, err)
	}
	if err := writeBackupManifest(ctx, st, dst, site, remote, content); err != nil {
		return n, fmt.Errorf("write backup manifest in %s: %w", dst, err)
	}
	return n, nil
}

// recheckStored HEADs the stored content of each touched path the store is
// known to hold (what a restore after a failed publish copies back). One
// that is gone, has another size, or whose SHA-256 as S3 computed it is not
// its own (rewritten, or stored without one by an earlier esteira) is copied
// again from the live site, which still holds the recorded bytes. The
// other contents were checked when they were stored and are checked again
// by any restore that copies them: a release costs what it changes.
func recheckStored(ctx context.Context, st objectStore, content location, remote remoteSet, touched []string, known map[string]bool, conc int) error {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for _, rel := range touched {
		o := remote[rel]
		if !known[o.SHA256] {
			continue
		}
		g.Go(func() error {
			got, err := st.Head(gctx, content.Bucket, content.key(o.SHA256))
			if err != nil && !errors.Is(err, errNotFound) {
				return err
			}
			if err != nil || got.Size != o.Size || got.SHA256 != o.SHA256 {
				mu.Lock()
				delete(known, o.SHA256)
				mu.Unlock()
			}
			return nil
		})
	}
	return g.Wait()
}

// backupSnapshot is a backup read back: the site state it recorded and
// the paths it stores.
type backupSnapshot struct {
	loc    location
	site   string // the site it is of (bucket/prefix); "" when an older esteira wrote it
	state  remoteSet
	stored map[string]bool
	// content is the content store of a backup by reference (nil for a
	// backup by copy): it holds the bytes of every path.
	content *location
}

func readBackup(ctx context.Context, st objectStore, loc location) (*backupSnapshot, error) {
	m, err := loadManifest(ctx, st, loc)
	switch {
	case errors.Is(err, errNotFound) || (err == nil && !m.Backup):
		return nil, fmt.Errorf("%s is not a verified esteira backup: it has no backup manifest %s", loc, reservedDir+"manifest.json")
	case err != nil:
		return nil, fmt.Errorf("read backup %s: %w", loc, err)
	}
	return snapshotOf(loc, m), nil
}

func snapshotOf(loc location, m manifest) *backupSnapshot {
	b := &backupSnapshot{loc: loc, site: m.Site, state: m.state(newLocation(loc.Bucket, "")), stored: map[string]bool{}}
	if m.Content != "" {
		c := location{Bucket: loc.Bucket, Prefix: m.Content}
		b.content = &c
	}
	for _, rel := range m.Stored {
		b.stored[rel] = true
	}
	return b
}

// changesTo lists what must change for the live site to equal state:
// paths to copy in (missing, different bytes or headers) and paths to delete.
func changesTo(live, state remoteSet) (copies, deletes []string) {
	for _, rel := range state.sortedKeys() {
		want, l := state[rel], live[rel]
		if l.Key == "" || !sameContent(l, want) || l.Headers.sig() != want.Headers.sig() {
			copies = append(copies, rel)
		}
	}
	for _, rel := range live.sortedKeys() {
		if _, ok := state[rel]; !ok {
			deletes = append(deletes, rel)
		}
	}
	return copies, deletes
}

// sourceIndex finds stored bytes by SHA-256 across backups.
type sourceIndex map[string]copyJob

func (ix sourceIndex) add(b *backupSnapshot) {
	if b.content != nil {
		for _, o := range b.state {
			if _, ok := ix[o.SHA256]; !ok {
				ix[o.SHA256] = copyJob{src: *b.content, srcRel: o.SHA256}
			}
		}
		return
	}
	for _, rel := range slices.Sorted(maps.Keys(b.stored)) {
		o := b.state[rel]
		if _, ok := ix[o.SHA256]; !ok && o.SHA256 != "" {
			ix[o.SHA256] = copyJob{src: b.loc, srcRel: rel}
		}
	}
}
