package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// restoreStats counts what a restore changed.
type restoreStats struct{ Copied, Deleted int }

// restorePlan is what a restore will do, worked out before any change.
type restorePlan struct {
	target  *backupSnapshot
	live    remoteSet
	jobs    []copyJob
	deletes []string
}

// touched lists the live paths the restore overwrites or deletes.
func (p *restorePlan) touched() []string {
	var rels []string
	for _, j := range p.jobs {
		if _, ok := p.live[j.dstRel]; ok {
			rels = append(rels, j.dstRel)
		}
	}
	return append(rels, p.deletes...)
}

// planRestore diffs the live site against the target backup's state and
// finds, for every path to copy back, a stored copy of its bytes: in the
// target backup first, then (more, for old backups) in other backups. It
// checks every source object is there before anything changes.
func planRestore(ctx context.Context, st objectStore, site location, target *backupSnapshot,
	more func() ([]*backupSnapshot, error), conc int) (*restorePlan, error) {
	live, err := listLocation(ctx, st, site)
	if err != nil {
		return nil, err
	}
	if _, err := resolveHashes(ctx, st, site, live, conc); err != nil {
		return nil, err
	}
	p := &restorePlan{target: target, live: live}
	copies, deletes := changesTo(live, target.state)
	p.deletes = deletes
	ix := sourceIndex{}
	ix.add(target)
	if missing := missingSources(ix, target.state, copies); len(missing) > 0 && more != nil {
		others, err := more()
		if err != nil {
			return nil, err
		}
		for _, b := range others {
			ix.add(b)
		}
	}
	if missing := missingSources(ix, target.state, copies); len(missing) > 0 {
		return nil, fmt.Errorf("backup %s cannot be restored: no backup holds the bytes of %s%s", target.loc,
			strings.Join(missing[:min(3, len(missing))], ", "), moreText(len(missing)-3))
	}
	for _, rel := range copies {
		j := ix[target.state[rel].SHA256]
		j.dst, j.dstRel = site, rel
		p.jobs = append(p.jobs, j)
	}
	if err := checkSources(ctx, st, p.jobs, target.state, conc); err != nil {
		if errors.Is(err, errIntegrity) {
			err = fmt.Errorf("backup %s cannot be restored: %w", target.loc, err)
		}
		return nil, err
	}
	return p, nil
}

func missingSources(ix sourceIndex, state remoteSet, copies []string) []string {
	var missing []string
	for _, rel := range copies {
		if _, ok := ix[state[rel].SHA256]; !ok {
			missing = append(missing, rel)
		}
	}
	return missing
}

func moreText(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n)
}

// checkSources checks the stored object of every copy before anything
// changes: it must be there, with the recorded size and the recorded
// SHA-256 (S3's checksum, or its bytes read back where S3 keeps none). Every
// object that differs is named and nothing is changed (errIntegrity). Its
// headers decide how it is copied: when they are the ones the backup
// recorded for the path, a plain copy keeps them and every other header and
// metadata as they were; otherwise (the same bytes stored under a path with
// other headers, or a copy that lost them) the recorded headers replace
// them, so the restored site has the headers it had, not whatever the
// stored copy carries. Each copy is checked again as it is made: S3 hashes
// the bytes it copies.
func checkSources(ctx context.Context, st objectStore, jobs []copyJob, state remoteSet, conc int) error {
	var mu sync.Mutex
	var damaged []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i := range jobs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			j, want := &jobs[i], state[jobs[i].dstRel]
			problem, err := checkSource(gctx, st, j, want)
			if problem != "" {
				mu.Lock()
				damaged = append(damaged, problem)
				mu.Unlock()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if len(damaged) > 0 {
		slices.Sort(damaged)
		return fmt.Errorf("%w: %s%s: the backup is damaged, the restore changed nothing (a deploy of a build uploads every file whose bytes differ)",
			errIntegrity, strings.Join(damaged[:min(5, len(damaged))], "; "), moreText(len(damaged)-5))
	}
	return nil
}

// checkSource checks one copy's source against want, the path's recorded
// state, and sets how it is copied. A damaged source is a problem, not an
// error: every damaged one is named together.
func checkSource(ctx context.Context, st objectStore, j *copyJob, want object) (string, error) {
	src, err := st.Head(ctx, j.src.Bucket, j.src.key(j.srcRel))
	switch {
	case errors.Is(err, errNotFound):
		return "", fmt.Errorf("backup object %s%s (the bytes of %s) is missing: the backup is incomplete, nothing was changed", j.src, j.srcRel, j.dstRel)
	case err != nil:
		return "", err
	case src.Size != want.Size:
		return fmt.Sprintf("%s (stored as %s%s) has %d bytes, the backup recorded %d", j.dstRel, j.src, j.srcRel, src.Size, want.Size), nil
	}
	sha, err := storedSHA256(ctx, st, j.src.Bucket, src)
	if err != nil {
		return "", err
	}
	if sha != want.SHA256 {
		return fmt.Sprintf("%s (stored as %s%s) has sha256 %s, the backup recorded %s", j.dstRel, j.src, j.srcRel, sha, want.SHA256), nil
	}
	j.sha, j.replace = want.SHA256, nil
	if src.Headers.sig() != want.Headers.sig() {
		h := want.Headers
		h.Metadata = maps.Clone(src.Headers.Metadata)
		if h.Metadata == nil {
			h.Metadata = map[string]string{}
		}
		h.Metadata[metaSHA256] = want.SHA256
		j.replace = &h
	}
	return "", nil
}

// executeRestore copies back (assets, HTML, index.html), deletes what the
// backup's site did not have, verifies the site equals the backup's state
// byte for byte and rewrites the site's manifest.
func executeRestore(ctx context.Context, st objectStore, site location, p *restorePlan, conc int, rep report) (restoreStats, error) {
	var stats restoreStats
	var mu sync.Mutex
	m := rep.meter("restore", len(p.jobs))
	err := copyAll(ctx, st, p.jobs, true, conc, m, func(j copyJob, _ string) {
		mu.Lock()
		stats.Copied++
		rep.file("    restored %s\n", j.dstRel)
		mu.Unlock()
	})
	m.stop()
	if err != nil {
		return stats, fmt.Errorf("restore %s from %s: %w", site, p.target.loc, err)
	}
	keys := make([]string, len(p.deletes))
	for i, rel := range p.deletes {
		keys[i] = site.key(rel)
	}
	if err := st.Delete(ctx, site.Bucket, keys); err != nil {
		return stats, fmt.Errorf("restore %s from %s: %w", site, p.target.loc, err)
	}
	stats.Deleted = len(keys)
	// The site now is the backup's state: the copied paths with the ETags
	// the backup recorded (a copy keeps an MD5 ETag), the others as listed.
	copied := copiedPaths(p.jobs)
	got := make(remoteSet, len(p.target.state))
	for rel, o := range p.target.state {
		if l, ok := p.live[rel]; ok {
			o.Key, o.ETag = l.Key, l.ETag
		}
		got[rel] = o
	}
	for _, rel := range copied {
		got[rel] = p.target.state[rel]
	}
	if err := verifyChanged(ctx, st, site, got, copied, p.deletes, sameBytes, conc, rep); err != nil {
		return stats, fmt.Errorf("restored site: %w", err)
	}
	return stats, writeManifest(ctx, st, site, got)
}

// restoreSite makes the site equal to the backup at src (every source in
// src itself); used after a failed publish.
func restoreSite(ctx context.Context, st objectStore, site, src location, conc int, rep report) (restoreStats, error) {
	target, err := readBackup(ctx, st, src)
	if err != nil {
		return restoreStats{}, err
	}
	p, err := planRestore(ctx, st, site, target, nil, conc)
	if err != nil {
		return restoreStats{}, err
	}
	return executeRestore(ctx, st, site, p, conc, rep)
}

// listBackups reads every verified backup under root except skip, newest
// first.
func listBackups(ctx context.Context, st objectStore, root location, skip location) ([]*backupSnapshot, error) {
	ids, err := backupDirs(ctx, st, root)
	if err != nil {
		return nil, err
	}
	var entries []backupEntry
	for _, id := range ids {
		e, err := readEntry(ctx, st, root, id)
		if err != nil {
			return nil, err
		}
		if e != nil && e.m.Backup && e.loc != skip {
			entries = append(entries, *e)
		}
	}
	sortNewestFirst(entries)
	var out []*backupSnapshot
	for _, e := range entries {
		out = append(out, snapshotOf(e.loc, e.m))
	}
	return out, nil
}

func copiedPaths(jobs []copyJob) []string {
	rels := make([]string, len(jobs))
	for i, j := range jobs {
		rels[i] = j.dstRel
	}
	return rels
}
