package lambdadeploy

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MaxUnzipped is the most Lambda takes unzipped: the function's package
// and its layers together, 250 MB. A package over it zips small when it is
// mostly zeros or text, and Lambda refuses it only at UpdateFunctionCode,
// after the function's configuration has changed: it is measured first.
const MaxUnzipped = 262_144_000

// tooBig is the error for a package over what Lambda takes unzipped.
func tooBig(size int64) error {
	return fmt.Errorf("the package is %.1f MB unzipped, more than the %d MB Lambda takes unzipped (layers included): leave out what the function does not need at run time, or ship it as a container image",
		float64(size)/(1<<20), MaxUnzipped>>20)
}

// unzippedSize is what the zip's directory says its files unzip to; ok is
// false when data is not a zip this can read (Lambda then judges it).
func unzippedSize(data []byte) (size int64, ok bool) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, false
	}
	var sum uint64
	for _, f := range zr.File {
		sum += min(f.UncompressedSize64, 1<<40) // 1 TB each at most: no sum overflows
	}
	return int64(min(sum, math.MaxInt64)), true
}

// ZipDir packs the folder as a deployment package: regular files only, in
// path order, with their permission bits and a fixed time, so the same
// files always make the same zip (and the same CodeSha256, which is how a
// release of unchanged code is recognised). Links, devices and other
// special files are refused by name, as is an empty folder; a folder over
// MaxUnzipped is refused by its size before it is compressed (the files
// are measured, not read), and a package over MaxZip with its size.
func ZipDir(dir string) ([]byte, error) {
	z := &zipper{}
	z.zw = zip.NewWriter(&z.buf)
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case e.IsDir():
			return nil
		case !e.Type().IsRegular():
			z.refused = append(z.refused, rel)
			return nil
		}
		return z.add(path, rel, e)
	})
	switch {
	case err != nil:
		return nil, err
	case len(z.refused) > 0:
		return nil, fmt.Errorf("the function's folder has links or special files, which a zip package cannot hold safely: %s (copy the files they point to into the folder)", strings.Join(z.refused, ", "))
	case z.unzipped > MaxUnzipped:
		return nil, fmt.Errorf("the function's folder: %w", tooBig(z.unzipped))
	case z.files == 0:
		return nil, errors.New("the function's folder is empty: nothing to package")
	}
	if err := z.zw.Close(); err != nil {
		return nil, err
	}
	return z.buf.Bytes(), nil
}

type zipper struct {
	buf      bytes.Buffer
	zw       *zip.Writer
	refused  []string
	files    int
	unzipped int64 // the size of every file met, packed or not
}

// add packs one file, or only counts its size once the folder is over
// what Lambda takes unzipped (to name the whole size, without reading).
func (z *zipper) add(path, rel string, e fs.DirEntry) error {
	info, err := e.Info()
	if err != nil {
		return err
	}
	if z.unzipped += info.Size(); z.unzipped > MaxUnzipped {
		return nil
	}
	h := &zip.FileHeader{Name: filepath.ToSlash(rel), Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(info.Mode().Perm())
	w, err := z.zw.CreateHeader(h)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// The size measured is the size packed: a file that grows meanwhile
	// cannot slip more past the limit.
	if _, err := io.CopyN(w, f, info.Size()); err != nil {
		return fmt.Errorf("pack %s: %w (did it change while being packed?)", rel, err)
	}
	z.files++
	if z.buf.Len() > MaxZip {
		return fmt.Errorf("the package is over %d MB after %s: more than Lambda takes in one upload; leave out what the function does not need at run time, or ship it as a container image", MaxZip>>20, rel)
	}
	return nil
}
