package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// manifest caches each object's SHA-256 next to the size and ETag it had
// when esteira wrote it. ListObjectsV2 returns no metadata, so without it
// every object would need a HEAD; an entry is trusted only while the listed
// size and ETag still match, anything else falls back to HEAD.
//
// A backup's manifest (Backup true) also is the backup's record: Objects is
// the whole site as it was before the release. A backup by reference names
// Content, the key prefix of the content store in the same bucket holding
// every object's bytes as <Content><sha256>, and Site, the bucket/prefix it
// backed up. A backup by copy (written by esteira before backups by
// reference) lists in Stored the paths whose bytes were copied into its own
// folder.
//
// manifestcodec.go has the encoding: one JSON line per object since version
// 3; versions 1 and 2 were one JSON document and still read.
type manifest struct {
	Version int
	Backup  bool
	Site    string
	Content string
	Taken   time.Time
	Objects map[string]manifestEntry
	Stored  []string
}

type manifestEntry struct {
	Size   int64
	ETag   string
	SHA256 string
	// Headers is headers.sig() at write time, so a changed Cache-Control
	// rule re-uploads the file even though its bytes did not change.
	Headers string
}

// readManifest reads loc's manifest; a missing or unreadable one is empty
// (for a site that is just a cache miss: HEADs still give the truth).
func readManifest(ctx context.Context, st objectStore, loc location) manifest {
	m, _ := loadManifest(ctx, st, loc)
	return m
}

func loadManifest(ctx context.Context, st objectStore, loc location) (manifest, error) {
	r, err := st.Read(ctx, loc.Bucket, loc.manifestKey())
	if err != nil {
		return manifest{Objects: map[string]manifestEntry{}}, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	var m manifest
	if err == nil {
		if m, err = decodeManifest(data); err != nil && !errors.Is(err, errNewerManifest) {
			err = &damagedManifest{err}
		}
	}
	if err != nil {
		return manifest{Objects: map[string]manifestEntry{}}, fmt.Errorf("read %s%s: %w", loc, reservedDir+"manifest.json", err)
	}
	return m, nil
}

// writeManifest writes set as the site loc's manifest.
func writeManifest(ctx context.Context, st objectStore, loc location, set remoteSet) error {
	return putManifest(ctx, st, loc, manifest{}, set)
}

// writeBackupManifest writes the manifest of a backup by reference at dst:
// site's state set, its bytes in content.
func writeBackupManifest(ctx context.Context, st objectStore, dst, site location, set remoteSet, content location) error {
	if content.Bucket != dst.Bucket {
		return fmt.Errorf("content store %s is not in the backup's bucket %s", content, dst.Bucket)
	}
	return putManifest(ctx, st, dst, manifest{Backup: true, Site: target(site), Content: content.Prefix, Taken: time.Now().UTC()}, set)
}

// putManifest writes m with set's objects (those with a known SHA-256) as
// loc's manifest.
func putManifest(ctx context.Context, st objectStore, loc location, m manifest, set remoteSet) error {
	m.Objects = make(map[string]manifestEntry, len(set))
	for rel, o := range set {
		if o.SHA256 != "" {
			m.Objects[rel] = manifestEntry{Size: o.Size, ETag: o.ETag, SHA256: o.SHA256, Headers: o.Headers.sig()}
		}
	}
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	_, err = st.Put(ctx, loc.Bucket, loc.manifestKey(), bytesBody(data), headers{ContentType: manifestType, CacheControl: "no-store"})
	return err
}

// state returns the manifest's objects as a remoteSet under loc.
func (m manifest) state(loc location) remoteSet {
	set := make(remoteSet, len(m.Objects))
	sigs := map[string]headers{}
	for rel, e := range m.Objects {
		h, ok := sigs[e.Headers]
		if !ok {
			h = parseSig(e.Headers)
			sigs[e.Headers] = h
		}
		set[rel] = object{Key: loc.key(rel), Size: e.Size, ETag: e.ETag, SHA256: e.SHA256, Headers: h}
	}
	return set
}
