package sitepublish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
)

// buildDigest identifies a build's content: the paths and SHA-256s of its
// own files (not the precompressed variants esteira adds).
func buildDigest(files []localFile) string {
	var lines []string
	for _, f := range files {
		if f.Path != "" {
			lines = append(lines, f.Rel+"\x00"+f.SHA256)
		}
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l+"\n")
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// BuildDigest is the digest of the build folder o.Dir, as a deploy records it.
func BuildDigest(ctx context.Context, o Options) (string, error) {
	o, err := o.withDefaults(false)
	if err != nil {
		return "", err
	}
	files, err := scanBuild(ctx, o)
	if err != nil {
		return "", err
	}
	return buildDigest(files), nil
}

// Download copies the site at bucket/prefix into dir, without esteira's
// bookkeeping and without the precompressed variants a publish added, so
// dir is the build that was published: what a promotion publishes
// elsewhere, nothing rebuilt. A variant is known by its headers, not its
// name: x.gz served with Content-Encoding gzip next to x. A build's own
// x.gz (served as itself, no Content-Encoding) is a file of the build and
// is downloaded like any other.
func Download(ctx context.Context, c Clients, bucket, prefix, dir string, conc int) error {
	if c.S3 == nil {
		return errors.New("no S3 client: pass Clients.S3")
	}
	if err := validatePrefix("Prefix", "the site's prefix", prefix); err != nil {
		return err
	}
	conc = orDefault(conc, defaultConcurrency)
	st := newS3Store(c.S3, 0)
	site := newLocation(bucket, prefix)
	remote, err := listLocation(ctx, st, site)
	if err != nil {
		return fmt.Errorf("list %s: %w", site, err)
	}
	if len(remote) == 0 {
		return fmt.Errorf("%s is empty: nothing to copy", site)
	}
	// The headers come from the site's manifest, or a HEAD where it has none.
	if _, err := resolveHashes(ctx, st, site, remote, conc); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for _, rel := range remote.sortedKeys() {
		if isVariant(remote, rel) {
			continue
		}
		g.Go(func() error { return download(gctx, st, site, rel, dir) })
	}
	return g.Wait()
}

// isVariant reports whether rel is a precompressed variant a publish added:
// served with Content-Encoding gzip, named after a published file plus ".gz".
func isVariant(remote remoteSet, rel string) bool {
	base, ok := strings.CutSuffix(rel, ".gz")
	if !ok || remote[rel].Headers.ContentEncoding != "gzip" {
		return false
	}
	_, published := remote[base]
	return published
}

func download(ctx context.Context, st objectStore, site location, rel, dir string) error {
	dst := filepath.Join(dir, filepath.FromSlash(rel))
	if !strings.HasPrefix(dst, filepath.Clean(dir)+string(filepath.Separator)) {
		return fmt.Errorf("object %s would land outside %s: refused", rel, dir)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	r, err := st.Read(ctx, site.Bucket, site.key(rel))
	if err != nil {
		return fmt.Errorf("read %s%s: %w", site, rel, err)
	}
	defer r.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("read %s%s: %w", site, rel, err)
	}
	return f.Close()
}
