package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// pruneGrace protects content copied into the store recently: a release
// copies new contents before it writes the manifest that refers to them, so
// content younger than this is never deleted, referred to or not. A
// release's backup takes seconds; the margin is for one that stalls.
const pruneGrace = 6 * time.Hour

// Pruned is what a prune deleted (or, in a dry run, would delete).
type Pruned struct {
	// Kept and Deleted are the site's backups (release ids), newest first.
	Kept    []string `json:"kept"`
	Deleted []string `json:"deleted"`
	// Contents and Bytes are the stored contents no remaining backup
	// refers to, and their size.
	Contents int   `json:"contents"`
	Bytes    int64 `json:"bytes"`
	// Recent counts unreferenced contents left alone because they are
	// younger than the grace period (a release may be about to refer to them).
	Recent int `json:"recent"`
	// Unfinished are an atomic site's folders of releases that never
	// completed (no manifest: a failed clean-up), deleted like old ones.
	Unfinished []string `json:"unfinished,omitempty"`
	// LeftAlone are folders found beside the releases that nothing proves
	// esteira's own (no marker, manifest or record of this site names
	// them): never deleted.
	LeftAlone []string `json:"leftAlone,omitempty"`
}

func (p Pruned) String() string {
	s := fmt.Sprintf("kept %d backups, deleted %d; deleted %d unreferenced contents (%.1f MB), left %d recent ones",
		len(p.Kept), len(p.Deleted), p.Contents, float64(p.Bytes)/1e6, p.Recent)
	if len(p.Unfinished) > 0 {
		s += fmt.Sprintf("; deleted %d folders of releases that never completed", len(p.Unfinished))
	}
	if len(p.LeftAlone) > 0 {
		s += fmt.Sprintf("; left alone %d folders nothing proves esteira's (%s)", len(p.LeftAlone), strings.Join(p.LeftAlone, ", "))
	}
	return s
}

// pruneBackups keeps the site's newest keep backups under root, deletes the
// older ones (the manifest first, so a backup stops counting as verified
// before any of its bytes go), then deletes the stored contents that no
// remaining backup (of any site sharing the root) refers to and that are
// older than pruneGrace at now, the S3 server's time (serverclock.go; zero
// when unknown: then no content is old enough). A folder without a manifest is left alone:
// it is not a verified backup, and may be one being written. It refuses,
// deleting nothing, when a manifest cannot be read: it could not tell what
// that backup needs.
func pruneBackups(ctx context.Context, st objectStore, site, root location, keep int, now time.Time, dryRun bool) (Pruned, error) {
	var res Pruned
	if keep < 1 {
		return res, fmt.Errorf("keep %d would delete every backup: keep at least 1", keep)
	}
	ids, err := backupDirs(ctx, st, root)
	if err != nil {
		return res, fmt.Errorf("list the backups in %s: %w", root, err)
	}
	var all []backupEntry
	for _, id := range ids {
		e, err := readEntry(ctx, st, root, id)
		if err != nil {
			return res, fmt.Errorf("nothing was pruned: %w", err)
		}
		if e != nil {
			all = append(all, *e)
		}
	}
	if err := sortNewestOnServer(ctx, st, all); err != nil {
		return res, fmt.Errorf("nothing was pruned: %w", err)
	}
	var remaining, drop []backupEntry
	for _, e := range all {
		mine := e.m.Backup && (e.m.Site == target(site) || e.m.Site == "")
		switch {
		case mine && len(res.Kept) < keep:
			res.Kept = append(res.Kept, e.id)
			remaining = append(remaining, e)
		case mine:
			res.Deleted = append(res.Deleted, e.id)
			drop = append(drop, e)
		default:
			remaining = append(remaining, e)
		}
	}
	content := contentAt(root)
	unreferenced, err := unreferencedContent(ctx, st, root, remaining, now, &res)
	if err != nil {
		return res, fmt.Errorf("nothing was pruned: %w", err)
	}
	if dryRun {
		return res, nil
	}
	for _, e := range drop {
		if err := deleteBackup(ctx, st, e); err != nil {
			return res, err
		}
	}
	if err := st.Delete(ctx, content.Bucket, unreferenced); err != nil {
		return res, fmt.Errorf("delete unreferenced contents from %s: %w", content, err)
	}
	return res, nil
}

// unreferencedContent lists the stored contents under root that neither a
// remaining backup nor a set-aside manifest refers to and that are
// pruneGrace old at now; it counts them (and the recent ones) in res.
func unreferencedContent(ctx context.Context, st objectStore, root location, remaining []backupEntry, now time.Time, res *Pruned) ([]string, error) {
	referenced := map[string]bool{}
	for _, e := range remaining {
		if e.m.Content != "" {
			for _, o := range e.m.Objects {
				referenced[o.SHA256] = true
			}
		}
	}
	// A set-aside manifest (setaside.go) still refers to its contents until
	// the operator deletes it.
	aside, err := setAsideReferences(ctx, st, root)
	if err != nil {
		return nil, err
	}
	maps.Copy(referenced, aside)
	content := contentAt(root)
	stored, err := st.List(ctx, content.Bucket, content.Prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", content, err)
	}
	var unreferenced []string
	for _, o := range stored {
		sha := strings.TrimPrefix(o.Key, content.Prefix)
		switch {
		case referenced[sha]:
		case now.Sub(o.Modified) < pruneGrace:
			res.Recent++
		default:
			unreferenced = append(unreferenced, o.Key)
			res.Contents++
			res.Bytes += o.Size
		}
	}
	return unreferenced, nil
}

// deleteBackup deletes a backup's manifest, then whatever else its folder
// holds (a backup by copy keeps its bytes there).
func deleteBackup(ctx context.Context, st objectStore, e backupEntry) error {
	if err := st.Delete(ctx, e.loc.Bucket, []string{e.loc.manifestKey()}); err != nil {
		return fmt.Errorf("delete backup %s: %w", e.loc, err)
	}
	if e.m.Content != "" {
		return nil
	}
	objs, err := st.List(ctx, e.loc.Bucket, e.loc.Prefix)
	if err != nil {
		return fmt.Errorf("delete backup %s: %w", e.loc, err)
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	if err := st.Delete(ctx, e.loc.Bucket, keys); err != nil {
		return fmt.Errorf("delete backup %s: %w", e.loc, err)
	}
	return nil
}

// PruneOptions configure Prune.
type PruneOptions struct {
	// Bucket and Prefix are the live site whose backups to prune.
	Bucket, Prefix string
	// BackupBucket and BackupPrefix are where Deploy wrote its backups
	// (BackupPrefix defaults as in Options).
	BackupBucket, BackupPrefix string
	// Keep is how many of the site's newest backups stay (at least 1).
	Keep int
	// Atomic prunes an atomic site instead (see AtomicOptions): its
	// release folders beyond the newest Keep, never the live one nor the
	// one it replaced (needs Clients.KeyValueStore and, to know that one,
	// Releases). nil: the site is released in place.
	Atomic *AtomicOptions
	// Releases stores the deploy lock, taken so no release of the site
	// runs meanwhile; nil means no lock.
	Releases  *release.Store
	Who       string
	BreakLock bool
	// DryRun reports what would be deleted and deletes nothing.
	DryRun bool
	// Out receives progress lines; nil discards them.
	Out io.Writer
}

// Prune deletes the site's backups beyond the newest o.Keep and the stored
// contents no remaining backup refers to, under the site's deploy lock.
// Every remaining backup still restores the whole site on its own.
func Prune(ctx context.Context, c Clients, o PruneOptions) (Pruned, error) {
	if c.S3 == nil {
		return Pruned{}, errors.New("no S3 client: pass Clients.S3")
	}
	return prune(ctx, newS3Store(c.S3, 0), c.KeyValueStore, o, time.Now())
}

// prune is Prune on st; local is the local clock's time, only compared
// with the server's to note a skew.
func prune(ctx context.Context, st objectStore, kv KeyValueStoreAPI, o PruneOptions, local time.Time) (Pruned, error) {
	if err := checkSite(o.Bucket, o.Prefix, nil); err != nil {
		return Pruned{}, err
	}
	if o.Keep < 1 {
		return Pruned{}, setting.Of("Keep", fmt.Errorf("keep %d would delete every backup: keep 1 or more", o.Keep))
	}
	s, err := strategyFor(o.Atomic, nil, kv)
	if err != nil {
		return Pruned{}, err
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return s.prune(ctx, st, newLocation(o.Bucket, o.Prefix), o, local)
}

// pruneInPlace prunes the backups of a site released in place.
func pruneInPlace(ctx context.Context, st objectStore, site location, o PruneOptions, local time.Time) (Pruned, error) {
	if o.BackupBucket == "" {
		return Pruned{}, setting.Of("BackupBucket", errors.New("the site has no backup bucket: name the bucket the site's releases wrote their backups to"))
	}
	root := newLocation(o.BackupBucket, defaultBackupPrefix(o.Bucket, o.Prefix, o.BackupBucket, o.BackupPrefix))
	if err := checkApart(site, root); err != nil {
		return Pruned{}, err
	}
	return underPruneLock(ctx, site, o, func() (Pruned, error) {
		return pruneBackups(ctx, st, site, root, o.Keep, serverNow(ctx, st, root.Bucket, local, o.Out), o.DryRun)
	})
}

// pruneAtomicSite prunes the release folders of an atomic site.
func pruneAtomicSite(ctx context.Context, st objectStore, kv KeyValueStoreAPI, site location, o PruneOptions, local time.Time) (Pruned, error) {
	a, err := o.Atomic.withDefaults(site, "")
	if err != nil {
		return Pruned{}, err
	}
	return underPruneLock(ctx, site, o, func() (Pruned, error) {
		return pruneAtomic(ctx, st, a.pointer(kv), site, o, local)
	})
}

// underPruneLock runs prune under the site's deploy lock and records it
// as a step.
func underPruneLock(ctx context.Context, site location, o PruneOptions, prune func() (Pruned, error)) (Pruned, error) {
	r := newRun("frontend", site, nil, o.Out)
	what := fmt.Sprintf("site prune %s keeping %d; it deletes only backups beyond the newest %d and contents none of them refers to", target(site), o.Keep, o.Keep)
	unlock, _, err := lock(ctx, r, o.Releases, site, release.Holder{Who: whoOrDefault(o.Who), What: what}, 0, o.BreakLock)
	if err != nil {
		return Pruned{}, fmt.Errorf("nothing was pruned: %w", err)
	}
	defer unlock()
	started := time.Now()
	res, err := prune()
	r.step("prune", started, err, res.String())
	return res, err
}

// pruneAtomic reads which release is live and which one it replaced, and
// prunes the other release folders.
func pruneAtomic(ctx context.Context, st objectStore, ptr pointer, site location, o PruneOptions, local time.Time) (Pruned, error) {
	live, _, err := ptr.read(ctx)
	if err != nil {
		return Pruned{}, fmt.Errorf("nothing was pruned: %w", err)
	}
	if live == "" {
		return Pruned{}, fmt.Errorf("nothing was pruned: %w", errNoPointer)
	}
	sr, err := readSiteRecords(ctx, o.Releases, site)
	if err != nil {
		return Pruned{}, fmt.Errorf("nothing was pruned: %w", err)
	}
	previous, err := sr.replaced(site, live)
	if o.Releases == nil || err != nil {
		// Without the records the release before the live one is unknown:
		// keep one more, so a rollback still has where to go.
		if o.Releases == nil {
			err = errors.New("no release records to find the release before the live one")
		}
		fmt.Fprintf(o.Out, "note: %v; keeping %d releases\n", err, o.Keep+1)
		o.Keep++
	}
	return pruneReleases(ctx, st, site, o.Keep, live, previous, knownRecords(sr), serverNow(ctx, st, site.Bucket, local, o.Out), o.DryRun)
}
