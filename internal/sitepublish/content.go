package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// A backup is by reference: the bytes live once per distinct content in the
// backup root's content store, <root>/.esteira/content/<sha256>, and a
// backup is its manifest (<root>/<release id>/.esteira/manifest.json): every
// path of the site as it was, with its size, ETag, SHA-256 and headers. A
// release copies into the store only the contents it does not hold yet, so
// a backup costs what changed since the last one, and still restores the
// whole site on its own.
//
// Which contents the store holds is read from the newest backup's manifest:
// it was verified when it was written, and pruning never deletes content a
// remaining backup refers to, nor the newest backup. A release checks again
// the stored content of every path it touches, and restores check every
// source before they change anything (integrity.go).

// contentAt is the content store of the backup root.
func contentAt(root location) location {
	return location{Bucket: root.Bucket, Prefix: root.Prefix + reservedDir + "content/"}
}

// backupRoot is where a backup location's siblings and content store live.
func backupRoot(bak location) location {
	p := strings.TrimSuffix(bak.Prefix, "/")
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return location{Bucket: bak.Bucket, Prefix: p[:i+1]}
	}
	return location{Bucket: bak.Bucket}
}

// backupDirs lists the release ids under root that may hold a backup,
// newest first (release ids sort by time).
func backupDirs(ctx context.Context, st objectStore, root location) ([]string, error) {
	dirs, err := st.Dirs(ctx, root.Bucket, root.Prefix)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, d := range dirs {
		id := strings.TrimSuffix(strings.TrimPrefix(d, root.Prefix), "/")
		if id != "" && id+"/" != reservedDir {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids, nil
}

// storedContent returns the contents the store is known to hold: those the
// site's newest backup by reference under root refers to (none when there is
// none). Only the site's own prune, under its deploy lock, deletes the
// site's backups, and it always keeps the newest.
func storedContent(ctx context.Context, st objectStore, site, root location) (map[string]bool, error) {
	ids, err := backupDirs(ctx, st, root)
	if err != nil {
		return nil, fmt.Errorf("list the backups in %s: %w", root, err)
	}
	// Release ids resolve to the second: read every backup of the newest
	// second and order them by the time their manifests were written.
	for len(ids) > 0 {
		second := ids[0][:min(len(ids[0]), len(idSecond))]
		var group []backupEntry
		for len(ids) > 0 && strings.HasPrefix(ids[0], second) {
			e, err := readEntry(ctx, st, root, ids[0])
			if err != nil {
				return nil, fmt.Errorf("read the newest backups in %s: %w", root, err)
			}
			if e != nil {
				group = append(group, *e)
			}
			ids = ids[1:]
		}
		sortNewestFirst(group)
		for _, e := range group {
			switch {
			case !e.m.Backup || (e.m.Site != target(site) && e.m.Site != ""):
				continue // not a backup, or another site's in a shared root
			case e.m.Content != contentAt(root).Prefix:
				return map[string]bool{}, nil // a backup by copy: the store may hold nothing of it
			}
			known := make(map[string]bool, len(e.m.Objects))
			for _, o := range e.m.Objects {
				known[o.SHA256] = true
			}
			return known, nil
		}
	}
	return map[string]bool{}, nil
}

// idSecond is the time part of a release id.
const idSecond = "20060102T150405Z"

// backupEntry is one backup found under the root.
type backupEntry struct {
	id  string
	loc location
	m   manifest
}

// readEntry reads the manifest of backup id under root; nil when it has
// none (a backup that never finished, or a folder that is no backup).
func readEntry(ctx context.Context, st objectStore, root location, id string) (*backupEntry, error) {
	loc := newLocation(root.Bucket, root.Prefix+id)
	m, err := loadManifest(ctx, st, loc)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, asDamagedBackup(id, loc, err)
	}
	return &backupEntry{id: id, loc: loc, m: m}, nil
}

// taken is when the backup was written: its manifest says so, or (written
// by an earlier esteira) its id does, to the second.
func (e backupEntry) taken() time.Time {
	if !e.m.Taken.IsZero() {
		return e.m.Taken
	}
	t, _ := time.Parse(idSecond, e.id[:min(len(e.id), len(idSecond))])
	return t
}

func sortNewestFirst(es []backupEntry) {
	slices.SortStableFunc(es, func(a, b backupEntry) int {
		if c := b.taken().Compare(a.taken()); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
}

// storeContent copies into the content store every content of set it does
// not hold yet (one copy per distinct SHA-256) and checks each copy holds
// the bytes of its key: the SHA-256 S3 computed while copying (returned by
// the copy itself), or where S3 reports none, the copy's size by HEAD and
// its checksum or bytes read back. It returns how many it copied.
func storeContent(ctx context.Context, st objectStore, site location, set remoteSet, known map[string]bool, content location, conc int, rep report) (int, error) {
	var jobs []copyJob
	queued := map[string]bool{}
	for _, rel := range set.sortedKeys() {
		sha := set[rel].SHA256
		if sha == "" {
			return 0, fmt.Errorf("%s%s has no known SHA-256, so it cannot be backed up by reference", site, rel)
		}
		if !known[sha] && !queued[sha] {
			queued[sha] = true
			jobs = append(jobs, copyJob{src: site, srcRel: rel, dst: content, dstRel: sha})
		}
	}
	m := rep.meter("backup", len(jobs))
	defer m.stop()
	var mu sync.Mutex
	var problems []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for _, j := range jobs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			problem, err := storeOne(gctx, st, j, set[j.srcRel].Size)
			if err != nil {
				return err
			}
			if problem != "" {
				mu.Lock()
				problems = append(problems, j.srcRel+": "+problem)
				mu.Unlock()
				return nil
			}
			m.tick()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, fmt.Errorf("copy into %s: %w", content, err)
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return 0, fmt.Errorf("verify %s: %w: %s%s", content, errVerify, strings.Join(problems[:min(5, len(problems))], "; "), moreText(len(problems)-5))
	}
	return len(jobs), nil
}

// storeOne copies one content into the store and says what is wrong with
// the copy ("" when it holds the bytes of its key, j.dstRel).
func storeOne(ctx context.Context, st objectStore, j copyJob, size int64) (string, error) {
	key := j.dst.key(j.dstRel)
	c, err := st.Copy(ctx, j.src.Bucket, j.src.key(j.srcRel), j.dst.Bucket, key, nil)
	if err != nil {
		return "", err
	}
	sha := c.SHA256
	if sha == "" {
		got, err := st.Head(ctx, j.dst.Bucket, key)
		switch {
		case errors.Is(err, errNotFound):
			return "missing after its copy", nil
		case err != nil:
			return "", err
		case got.Size != size:
			return fmt.Sprintf("the copy has %d bytes, want %d", got.Size, size), nil
		}
		if sha, err = storedSHA256(ctx, st, j.dst.Bucket, got); err != nil {
			return "", err
		}
	}
	if sha != j.dstRel {
		return "the site's bytes have sha256 " + sha + ", not the recorded one", nil
	}
	return "", nil
}
