package sitepublish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/futuraplataforma/esteira/internal/release"
)

// An atomic site's prefix holds its release folders, and may hold anything
// else too: an ordinary site at <prefix>/blog/, a folder someone put there.
// A prune deletes only what it can prove is its own, never a folder it
// merely finds: a release folder whose marker or manifest names this site,
// or whose id this site's release records name. A release writes its
// marker before anything else into its folder and a deletion removes it
// after everything else, so whatever is left of a folder whose clean-up
// failed still says whose it is.

// releaseMarker is <prefix>/<release id>/.esteira/release.json.
type releaseMarker struct {
	Site    string `json:"site"`
	Release string `json:"release"`
}

func markerKey(loc location) string { return loc.Prefix + reservedDir + "release.json" }

// putMarker writes the marker of release id of site into its folder.
func putMarker(ctx context.Context, st objectStore, site, folder location, id string) error {
	data, err := json.Marshal(releaseMarker{Site: target(site), Release: id})
	if err != nil {
		return err
	}
	_, err = st.Put(ctx, folder.Bucket, markerKey(folder), bytesBody(data), headers{ContentType: "application/json", CacheControl: "no-store"})
	if err != nil {
		return fmt.Errorf("mark %s as release %s of %s: %w", folder, id, target(site), err)
	}
	return nil
}

// markedFor reads folder's marker: whether it names site.
func markedFor(ctx context.Context, st objectStore, site, folder location) (bool, error) {
	r, err := st.Read(ctx, folder.Bucket, markerKey(folder))
	if errors.Is(err, errNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the marker of %s: %w", folder, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return false, fmt.Errorf("read the marker of %s: %w", folder, err)
	}
	var m releaseMarker
	// A marker that does not decode proves nothing.
	return json.Unmarshal(data, &m) == nil && m.Site == target(site), nil
}

// siteRecords is what the release records of a site say about its folders.
type siteRecords struct {
	list []*release.Record
	// named are the release ids the records name (a release's own, and the
	// ones it made live or replaced); ended those whose release finished
	// (a record is written when a release ends, whatever its outcome).
	named, ended map[string]bool
}

func readSiteRecords(ctx context.Context, s *release.Store, site location) (siteRecords, error) {
	sr := siteRecords{named: map[string]bool{}, ended: map[string]bool{}}
	if s == nil {
		return sr, nil
	}
	recs, err := s.List(ctx, "frontend", target(site))
	if err != nil {
		return sr, fmt.Errorf("list the release records of %s: %w", target(site), err)
	}
	sr.list = recs
	for _, rec := range recs {
		sr.named[rec.ID], sr.ended[rec.ID] = true, true
		if rec.Frontend != nil {
			for _, id := range []string{rec.Frontend.Release, rec.Frontend.Previous} {
				if id != "" {
					sr.named[id] = true
				}
			}
		}
	}
	return sr, nil
}

// releaseFolder is one folder under an atomic site's prefix.
type releaseFolder struct {
	backupEntry      // m is read only when complete
	complete    bool // its manifest is there: a whole, verified release
	own         bool // proven the site's own
}

// records gives a site's records, read at most once (recordsOnce) or
// already read (knownRecords).
type records func(ctx context.Context) (siteRecords, error)

// recordsOnce reads the records of site on first use only: a prune whose
// folders all carry their own proof never lists them.
func recordsOnce(s *release.Store, site location) records {
	var done *siteRecords
	return func(ctx context.Context) (siteRecords, error) {
		if done == nil {
			sr, err := readSiteRecords(ctx, s, site)
			if err != nil {
				return sr, err
			}
			done = &sr
		}
		return *done, nil
	}
}

func knownRecords(sr siteRecords) records {
	return func(context.Context) (siteRecords, error) { return sr, nil }
}

// readReleaseFolders lists the folders under site and what proves each
// one the site's own: its marker, its manifest, or else the records. A
// damaged manifest in a folder the site owns stops the prune
// (*DamagedBackupError); in a folder it does not own, it is none of the
// prune's business.
func readReleaseFolders(ctx context.Context, st objectStore, site location, recs records) ([]releaseFolder, error) {
	ids, err := backupDirs(ctx, st, site)
	if err != nil {
		return nil, fmt.Errorf("list the releases in %s: %w", site, err)
	}
	var out []releaseFolder
	for _, id := range ids {
		f := releaseFolder{backupEntry: backupEntry{id: id, loc: releaseAt(site, id)}}
		marked, err := markedFor(ctx, st, site, f.loc)
		if err != nil {
			return nil, err
		}
		e, merr := readEntry(ctx, st, site, id)
		if e != nil {
			f.m, f.complete = e.m, true
		}
		f.own = marked || (f.complete && !f.m.Backup && f.m.Site == target(site))
		if !f.own {
			sr, err := recs(ctx)
			if err != nil {
				return nil, err
			}
			f.own = sr.named[id]
		}
		if _, damaged := DamagedBackup(merr); merr != nil && (f.own || !damaged) {
			return nil, merr
		}
		out = append(out, f)
	}
	return out, nil
}
