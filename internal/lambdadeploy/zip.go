package lambdadeploy

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ZipDir packs the folder as a deployment package: regular files only, in
// path order, with their permission bits and a fixed time, so the same
// files always make the same zip (and the same CodeSha256, which is how a
// release of unchanged code is recognised). Links, devices and other
// special files are refused by name, as is an empty folder; a package over
// MaxZip is refused with its size.
func ZipDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var refused []string
	files := 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case e.IsDir():
			return nil
		case !e.Type().IsRegular():
			refused = append(refused, rel)
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		h := &zip.FileHeader{Name: filepath.ToSlash(rel), Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
		h.SetMode(info.Mode().Perm())
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		files++
		if buf.Len() > MaxZip {
			return fmt.Errorf("the package is over %d MB after %s: more than Lambda takes in one upload; leave out what the function does not need at run time, or ship it as a container image", MaxZip>>20, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("the function's folder has links or special files, which a zip package cannot hold safely: %s (copy the files they point to into the folder)", strings.Join(refused, ", "))
	}
	if files == 0 {
		return nil, errors.New("the function's folder is empty: nothing to package")
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
