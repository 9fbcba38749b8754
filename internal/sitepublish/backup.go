package sitepublish

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"
)

// copyAll copies rels from src to dst server-side in parallel, in upload
// phase order (assets, HTML, root index.html) so a restore never serves a
// page before its assets.
func copyAll(ctx context.Context, st objectStore, src, dst location, set remoteSet, rels []string, conc int, out io.Writer) error {
	byPhase := make([][]string, 3)
	for _, rel := range rels {
		ph := phase(rel, set[rel].Headers)
		byPhase[ph] = append(byPhase[ph], rel)
	}
	for _, group := range byPhase {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(conc)
		for _, rel := range group {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				_, err := st.Copy(gctx, src.Bucket, src.key(rel), dst.Bucket, dst.key(rel))
				if err == nil && out != nil {
					fmt.Fprintf(out, "    restored %s\n", rel)
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

// backupSite copies the resolved live site to dst, verifies the copy has the
// same keys, sizes and content, and writes dst's manifest, which marks the
// backup as verified (rollback only trusts backups that have one).
func backupSite(ctx context.Context, st objectStore, site location, remote remoteSet, dst location, conc int) error {
	rels := remote.sortedKeys()
	if err := copyAll(ctx, st, site, dst, remote, rels, conc, nil); err != nil {
		return fmt.Errorf("back up %s to %s: %w", site, dst, err)
	}
	got, err := verifyLocation(ctx, st, remote, dst, sameBytes, conc)
	if err != nil {
		return fmt.Errorf("backup of %s: %w", site, err)
	}
	if err := writeManifest(ctx, st, dst, got); err != nil {
		return fmt.Errorf("write backup manifest in %s: %w", dst, err)
	}
	return nil
}

// restoreStats counts what a restore changed.
type restoreStats struct{ Copied, Deleted int }

// restoreSite makes the site byte-identical to the backup at src: copies
// back what is missing or differs (bytes or headers), then deletes what the
// backup does not have, then verifies and rewrites the site's manifest.
func restoreSite(ctx context.Context, st objectStore, site, src location, conc int, out io.Writer) (restoreStats, error) {
	var stats restoreStats
	backup, err := listLocation(ctx, st, src)
	if err != nil {
		return stats, err
	}
	if _, err := resolveHashes(ctx, st, src, backup, conc); err != nil {
		return stats, err
	}
	live, err := listLocation(ctx, st, site)
	if err != nil {
		return stats, err
	}
	if _, err := resolveHashes(ctx, st, site, live, conc); err != nil {
		return stats, err
	}
	var copies, deletes []string
	for _, rel := range backup.sortedKeys() {
		b, l := backup[rel], live[rel]
		if l.Key == "" || !sameContent(b, l) || b.Headers.sig() != l.Headers.sig() {
			copies = append(copies, rel)
		}
	}
	for _, rel := range live.sortedKeys() {
		if _, ok := backup[rel]; !ok {
			deletes = append(deletes, site.key(rel))
		}
	}
	if err := copyAll(ctx, st, src, site, backup, copies, conc, out); err != nil {
		return stats, fmt.Errorf("restore %s from %s: %w", site, src, err)
	}
	stats.Copied = len(copies)
	if err := st.Delete(ctx, site.Bucket, deletes); err != nil {
		return stats, fmt.Errorf("restore %s from %s: %w", site, src, err)
	}
	stats.Deleted = len(deletes)
	got, err := verifyLocation(ctx, st, backup, site, sameBytes, conc)
	if err != nil {
		return stats, fmt.Errorf("restored site: %w", err)
	}
	return stats, writeManifest(ctx, st, site, got)
}
