package sitepublish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// location is a bucket and a key prefix ("" or ending in "/").
type location struct{ Bucket, Prefix string }

func newLocation(bucket, prefix string) location {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return location{Bucket: bucket, Prefix: prefix}
}

func (l location) key(rel string) string { return l.Prefix + rel }
func (l location) String() string        { return "s3://" + l.Bucket + "/" + l.Prefix }
func (l location) manifestKey() string   { return l.Prefix + reservedDir + "manifest.json" }

// contains reports whether other lies inside l (or is l).
func (l location) contains(other location) bool {
	return l.Bucket == other.Bucket && strings.HasPrefix(other.Prefix, l.Prefix)
}

// remoteSet maps a path relative to the location to its object.
type remoteSet map[string]object

func (r remoteSet) sortedKeys() []string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// listLocation lists the objects under loc, without esteira's own objects.
func listLocation(ctx context.Context, st objectStore, loc location) (remoteSet, error) {
	objs, err := st.List(ctx, loc.Bucket, loc.Prefix)
	if err != nil {
		return nil, err
	}
	set := make(remoteSet, len(objs))
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, loc.Prefix)
		if rel == "" || strings.HasPrefix(rel, reservedDir) || strings.HasSuffix(rel, "/") {
			continue
		}
		set[rel] = o
	}
	return set, nil
}

// checkNoneEnclosed refuses a site that encloses another esteira site or
// backup (a folder with its own .esteira/ manifest, e.g. www/blog/ inside
// www/, or esteira-backups/ in the bucket's root): the release would delete
// their files, backups and manifests as files gone from the build.
func checkNoneEnclosed(site location, remote remoteSet) error {
	seen := map[string]bool{}
	var roots []string
	for _, rel := range remote.sortedKeys() {
		i := strings.Index(rel, "/"+reservedDir)
		if i < 0 || seen[rel[:i+1]] {
			continue
		}
		seen[rel[:i+1]] = true
		roots = append(roots, site.Prefix+rel[:i+1])
	}
	if len(roots) == 0 {
		return nil
	}
	shown := roots
	if len(shown) > maxListed {
		shown = append(shown[:maxListed:maxListed], fmt.Sprintf("... and %d more", len(roots)-maxListed))
	}
	return fmt.Errorf("%s encloses %d other esteira site(s) or backup(s), which a release here would delete: %s; nothing was changed: "+
		"deploy each site to a prefix of its own, and keep backups (the backup bucket and prefix) outside every site",
		site, len(roots), strings.Join(shown, ", "))
}

// resolveStats counts where the hashes came from.
type resolveStats struct{ Manifest, Head, Read int64 }

func (s resolveStats) String() string {
	return fmt.Sprintf("%d hashes from manifest, %d by HEAD, %d by reading", s.Manifest, s.Head, s.Read)
}

// resolveHashes fills SHA256 of every object in set: from the manifest when
// its size and ETag match, else from S3's SHA-256 checksum of the object
// (HEAD), else by reading and hashing the object (a site published by
// another tool or an earlier esteira, an upload in parts). The metadata a
// publish writes is not read: it would survive a rewrite of the bytes.
func resolveHashes(ctx context.Context, st objectStore, loc location, set remoteSet, conc int) (resolveStats, error) {
	m := readManifest(ctx, st, loc)
	var stats resolveStats
	var heads []string
	sigs := map[string]headers{}
	for rel, o := range set {
		e, ok := m.Objects[rel]
		if ok && o.ETag != "" && e.ETag == o.ETag && e.Size == o.Size && e.SHA256 != "" {
			h, parsed := sigs[e.Headers]
			if !parsed {
				h = parseSig(e.Headers)
				sigs[e.Headers] = h
			}
			o.SHA256, o.Headers = e.SHA256, h
			set[rel] = o
			stats.Manifest++
			continue
		}
		heads = append(heads, rel)
	}
	results := make([]object, len(heads))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i, rel := range heads {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			o, err := st.Head(gctx, loc.Bucket, loc.key(rel))
			if err != nil {
				return err
			}
			atomic.AddInt64(&stats.Head, 1)
			if o.SHA256 == "" {
				if o.SHA256, err = readHash(gctx, st, loc.Bucket, o.Key); err != nil {
					return err
				}
				atomic.AddInt64(&stats.Read, 1)
			}
			results[i] = o
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return stats, fmt.Errorf("read content hashes under %s: %w", loc, err)
	}
	for i, rel := range heads {
		set[rel] = results[i]
	}
	return stats, nil
}

func readHash(ctx context.Context, st objectStore, bucket, key string) (string, error) {
	r, err := st.Read(ctx, bucket, key)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sameContent reports whether two objects hold the same bytes: equal
// single-part ETags (MD5s), else equal SHA-256s; unknown counts as
// different. Differing ETags alone do not mean different bytes: with
// SSE-KMS an ETag is not the MD5, and copies of multipart objects differ.
func sameContent(a, b object) bool {
	if a.Size != b.Size {
		return false
	}
	if a.singlePart() && b.singlePart() && a.ETag == b.ETag {
		return a.SHA256 == "" || b.SHA256 == "" || a.SHA256 == b.SHA256
	}
	return a.SHA256 != "" && a.SHA256 == b.SHA256
}

var errVerify = errors.New("verification failed")
