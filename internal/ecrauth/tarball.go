package ecrauth

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ManifestDigestOfOCITarball returns the digest of the image in an OCI
// image-layout tarball (optionally gzipped), as Dagger's Container.AsTarball
// writes it: the digest of index.json's single manifest descriptor, which is
// the digest the registry will report after the push.
func ManifestDigestOfOCITarball(tarPath string) (string, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return "", fmt.Errorf("read image tarball: %w", err)
	}
	defer f.Close()
	r, err := maybeGunzip(f)
	if err != nil {
		return "", fmt.Errorf("read image tarball %s: %w", tarPath, err)
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read image tarball %s: no index.json: not an OCI image layout (export the image with OCI media types)", tarPath)
		}
		if err != nil {
			return "", fmt.Errorf("read image tarball %s: %w", tarPath, err)
		}
		if path.Clean(hdr.Name) == "index.json" {
			return digestFromIndex(tarPath, tr)
		}
	}
}

func maybeGunzip(f io.Reader) (io.Reader, error) {
	br := bufio.NewReader(f)
	magic, err := br.Peek(2)
	if err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// digestFromIndex reads index.json with go-containerregistry, which checks
// each digest is algorithm:hex of the right length.
func digestFromIndex(tarPath string, r io.Reader) (string, error) {
	index, err := v1.ParseIndexManifest(r)
	if err != nil {
		return "", fmt.Errorf("read index.json of %s: %w", tarPath, err)
	}
	if n := len(index.Manifests); n != 1 {
		return "", fmt.Errorf("read index.json of %s: it lists %d manifests, want exactly 1 (one image, or one multi-platform index)", tarPath, n)
	}
	d := index.Manifests[0].Digest
	if d.Algorithm != "sha256" {
		return "", fmt.Errorf("read index.json of %s: manifest digest %s is not sha256: export the image with a sha256 digest, as registries report it", tarPath, d)
	}
	return d.String(), nil
}
