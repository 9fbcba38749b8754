package sitepublish

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/futuraplataforma/esteira/internal/setting"
	"golang.org/x/sync/errgroup"
)

// localFile is one file of the build (or a precompressed variant of one).
type localFile struct {
	Rel     string // slash path relative to the site root
	Path    string // on disk; "" for an in-memory variant
	Data    []byte // variant content
	Size    int64
	SHA256  string // hex
	Headers headers
}

func (f localFile) body() body {
	if f.Path == "" {
		b := bytesBody(f.Data)
		b.SHA256 = f.SHA256
		return b
	}
	return body{Size: f.Size, SHA256: f.SHA256, Open: func() (io.ReadSeekCloser, error) { return openRegular(f.Path) }}
}

// reservedDir holds esteira's own objects inside the site prefix.
const reservedDir = ".esteira/"

// scanDir lists and hashes every regular file under dir, in parallel.
func scanDir(ctx context.Context, dir string, cm *cacheMatcher, precompress []string, conc int, rep report) ([]localFile, error) {
	files, err := walkDir(dir)
	if err != nil {
		return nil, err
	}
	return hashFiles(ctx, files, cm, precompress, conc, rep)
}

// walkDir lists every regular file under dir and refuses, by name, what
// cannot be published (links out of the build, special files, esteira's
// reserved folder) and an empty build: the checks that need no hashing.
func walkDir(dir string) ([]localFile, error) {
	var files []localFile
	var refused []string
	realRoot, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("read build folder %s: %w", dir, err)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read build folder %s: %w", p, err)
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, reservedDir) {
			return fmt.Errorf("build file %s is inside %s, which esteira reserves for its manifest: rename it", rel, reservedDir)
		}
		from, why := buildEntry(realRoot, p, d)
		if why != "" {
			refused = append(refused, rel+": "+why)
			return nil
		}
		files = append(files, localFile{Rel: rel, Path: from})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(refused) > 0 {
		return nil, refusedError(dir, refused)
	}
	if len(files) == 0 {
		return nil, setting.Of("Dir", fmt.Errorf("build folder %s is empty (no files): check the folder the build writes, or the folder given as the built site", dir))
	}
	return files, nil
}

// hashFiles hashes the walked files in parallel, sets their headers and
// adds the precompressed variants.
func hashFiles(ctx context.Context, files []localFile, cm *cacheMatcher, precompress []string, conc int, rep report) ([]localFile, error) {
	files = slices.Clone(files)
	m := rep.meter("hash", len(files))
	defer m.stop()
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	var mu sync.Mutex
	var variants []localFile
	for i := range files {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			f := &files[i]
			if err := hashFile(f); err != nil {
				return err
			}
			m.tick()
			f.Headers = headersFor(f.Rel, cm)
			v, err := precompressed(*f, precompress)
			mu.Lock()
			variants = append(variants, v...)
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return mergeVariants(files, variants), nil
}

func hashFile(f *localFile) error {
	r, err := openRegular(f.Path)
	if err != nil {
		return fmt.Errorf("read build file %s: %w: fix its permissions or remove it from the build", f.Rel, err)
	}
	defer r.Close()
	s := sha256.New()
	// A pooled buffer: io.Copy would allocate one per file (through
	// os.File's WriteTo), and at 50,000 files the collector's work showed.
	buf := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(buf)
	var n int64
	for {
		k, err := r.Read(*buf)
		s.Write((*buf)[:k])
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read build file %s: %w: fix its permissions or remove it from the build", f.Rel, err)
		}
	}
	f.Size, f.SHA256 = n, hex.EncodeToString(s.Sum(nil))
	return nil
}

var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func hashBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func headersFor(rel string, cm *cacheMatcher) headers {
	return headers{ContentType: contentType(rel), CacheControl: cm.value(rel), Metadata: map[string]string{}}
}

// precompressed returns the gzip variant (rel + ".gz") of a compressible file.
func precompressed(f localFile, encodings []string) ([]localFile, error) {
	var out []localFile
	for _, enc := range encodings {
		if enc != "gzip" || f.Size < 1024 || !compressible(f.Headers.ContentType) {
			continue
		}
		raw, err := readRegular(f.Path)
		if err != nil {
			return nil, fmt.Errorf("read build file %s: %w", f.Rel, err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(raw)
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("gzip %s: %w", f.Rel, err)
		}
		v := localFile{Rel: f.Rel + ".gz", Data: buf.Bytes(), Size: int64(buf.Len()), Headers: f.Headers}
		v.Headers.ContentEncoding, v.Headers.Metadata = "gzip", map[string]string{}
		v.SHA256 = hashBytes(v.Data)
		out = append(out, v)
	}
	return out, nil
}

// mergeVariants adds variants whose key the build does not already have
// (a build's own .gz wins) and sorts by key.
func mergeVariants(files, variants []localFile) []localFile {
	have := make(map[string]bool, len(files))
	for _, f := range files {
		have[f.Rel] = true
	}
	for _, v := range variants {
		if !have[v.Rel] {
			files = append(files, v)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Rel < files[j].Rel })
	return files
}

var contentTypes = map[string]string{
	".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript",
	".mjs": "text/javascript", ".cjs": "text/javascript", ".json": "application/json", ".map": "application/json",
	".webmanifest": "application/manifest+json", ".xml": "application/xml", ".txt": "text/plain",
	".md": "text/markdown", ".csv": "text/csv", ".svg": "image/svg+xml", ".png": "image/png",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
	".avif": "image/avif", ".ico": "image/x-icon", ".woff": "font/woff", ".woff2": "font/woff2",
	".ttf": "font/ttf", ".otf": "font/otf", ".wasm": "application/wasm", ".pdf": "application/pdf",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".zip": "application/zip",
	".gz": "application/gzip", ".br": "application/x-brotli",
}

// contentType maps the extension to a MIME type, adding charset=utf-8 to
// text types. Unknown extensions fall back to the system table, then
// application/octet-stream.
func contentType(rel string) string {
	ext := strings.ToLower(path.Ext(rel))
	t, ok := contentTypes[ext]
	if !ok {
		t, _, _ = strings.Cut(mime.TypeByExtension(ext), ";")
	}
	if t == "" {
		return "application/octet-stream"
	}
	if textual(t) {
		return t + "; charset=utf-8"
	}
	return t
}

func textual(t string) bool {
	return strings.HasPrefix(t, "text/") || t == "application/json" || t == "application/manifest+json" ||
		t == "application/xml" || t == "image/svg+xml" || t == "application/javascript"
}

func compressible(ct string) bool {
	t, _, _ := strings.Cut(ct, ";")
	return textual(t) || t == "application/wasm"
}
