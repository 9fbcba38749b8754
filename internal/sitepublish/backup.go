package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"golang.org/x/sync/errgroup"
)

// A backup holds the bytes of the live site as it was before a release,
// plus a manifest recording the whole site (paths, sizes, ETags, SHA-256s,
// headers). By default (BackupFull) it holds every object, so each backup
// restores on its own. With BackupChanged it holds only the objects the
// release overwrites or deletes: the others stay where they are (the live
// site, or a later release's backup once that release changes them), so a
// backup costs what the release changes, and restores find the bytes
// across backups by SHA-256. Either way the manifest is written last, after
// the copies verified, and restores verify the result against it byte for
// byte before they report success.

// copyJob copies one object; replace (optional) sets new headers.
type copyJob struct {
	src, dst location
	srcRel   string
	dstRel   string
	replace  *headers
}

// copyAll runs the copies; into a live site (ordered) in upload phase
// order (assets, HTML, root index.html) so a restore never serves a page
// before its assets, into a backup all at once.
func copyAll(ctx context.Context, st objectStore, jobs []copyJob, ordered bool, conc int, m *meter, onDone func(copyJob)) error {
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
				_, err := st.Copy(gctx, j.src.Bucket, j.src.key(j.srcRel), j.dst.Bucket, j.dst.key(j.dstRel), j.replace)
				if err == nil {
					m.tick()
				}
				if err == nil && onDone != nil {
					onDone(j)
				}
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// backupSite copies the given paths of the resolved live site to dst,
// verifies the copies (same keys, sizes and content), then writes dst's
// manifest: the whole site state plus which paths dst stores. The manifest
// is written last and marks the backup as verified.
func backupSite(ctx context.Context, st objectStore, site location, remote remoteSet, rels []string, dst location, conc int, rep report) error {
	rels = slices.Sorted(slices.Values(rels))
	jobs := make([]copyJob, len(rels))
	want := make(remoteSet, len(rels))
	for i, rel := range rels {
		jobs[i] = copyJob{src: site, dst: dst, srcRel: rel, dstRel: rel}
		want[rel] = remote[rel]
	}
	m := rep.meter("backup", len(jobs))
	err := copyAll(ctx, st, jobs, false, conc, m, nil)
	m.stop()
	if err != nil {
		return fmt.Errorf("back up %s to %s: %w", site, dst, err)
	}
	if _, err := verifyLocation(ctx, st, want, dst, sameBytes, conc, rep); err != nil {
		return fmt.Errorf("backup of %s: %w", site, err)
	}
	if err := writeManifest(ctx, st, dst, remote, append([]string{}, rels...)); err != nil {
		return fmt.Errorf("write backup manifest in %s: %w", dst, err)
	}
	return nil
}

// backupSnapshot is a backup read back: the site state it recorded and
// the paths it stores.
type backupSnapshot struct {
	loc    location
	state  remoteSet
	stored map[string]bool
}

func readBackup(ctx context.Context, st objectStore, loc location) (*backupSnapshot, error) {
	m, err := loadManifest(ctx, st, loc)
	switch {
	case errors.Is(err, errNotFound) || (err == nil && !m.Backup):
		return nil, fmt.Errorf("%s is not a verified esteira backup: it has no backup manifest %s", loc, reservedDir+"manifest.json")
	case err != nil:
		return nil, fmt.Errorf("read backup %s: %w", loc, err)
	}
	b := &backupSnapshot{loc: loc, state: m.state(newLocation(loc.Bucket, "")), stored: map[string]bool{}}
	for _, rel := range m.Stored {
		b.stored[rel] = true
	}
	return b, nil
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
	for _, rel := range slices.Sorted(maps.Keys(b.stored)) {
		o := b.state[rel]
		if _, ok := ix[o.SHA256]; !ok && o.SHA256 != "" {
			ix[o.SHA256] = copyJob{src: b.loc, srcRel: rel}
		}
	}
}
