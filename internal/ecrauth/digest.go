package ecrauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// manifestMediaTypes are the manifest kinds a tag may point at.
var manifestMediaTypes = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// httpClient sends registry requests; tests may replace it.
var httpClient = http.DefaultClient

// ExistingDigest asks the registry which manifest repositoryURI:tag points
// at and returns its digest, or "" when the tag (or the repository's first
// image) does not exist yet. It speaks plain HTTP when the token said so or
// to 127.0.0.1 and localhost, HTTPS elsewhere (see Credentials.BaseURL).
func ExistingDigest(ctx context.Context, creds *Credentials, repositoryURI, tag string) (string, error) {
	if err := ValidateTag(tag); err != nil {
		return "", err
	}
	if creds == nil {
		return "", errors.New("look up existing tag: no registry credentials: log in first")
	}
	host, name, ok := strings.Cut(repositoryURI, "/")
	if !ok || name == "" {
		return "", fmt.Errorf("look up existing tag: repository URI %q is not host/name", repositoryURI)
	}
	if host != creds.Registry {
		return "", fmt.Errorf("look up %s:%s: the credentials are for registry %s, not %s: log in to the repository's registry", name, tag, creds.Registry, host)
	}
	url := creds.BaseURL() + "/v2/" + name + "/manifests/" + tag
	resp, err := manifestRequest(ctx, http.MethodHead, url, creds)
	if err != nil {
		return "", fmt.Errorf("look up %s:%s in %s: %w", name, tag, host, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound: // MANIFEST_UNKNOWN or NAME_UNKNOWN
		return "", nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("look up %s:%s: registry %s refused the credentials for user %s (HTTP %d): log in again (ECR tokens expire after 12 hours) and check the role may pull from %s",
			name, tag, host, creds.Username, resp.StatusCode, name)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("look up %s:%s: registry %s answered HTTP %d", name, tag, host, resp.StatusCode)
	}
	if d := resp.Header.Get("Docker-Content-Digest"); d != "" {
		return d, nil
	}
	return digestByGet(ctx, url, creds) // registries need not send the header on HEAD
}

// digestByGet fetches the manifest and hashes it.
func digestByGet(ctx context.Context, url string, creds *Credentials) (string, error) {
	resp, err := manifestRequest(ctx, http.MethodGet, url, creds)
	if err != nil {
		return "", fmt.Errorf("fetch manifest %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch manifest %s: registry answered HTTP %d", url, resp.StatusCode)
	}
	if d := resp.Header.Get("Docker-Content-Digest"); d != "" {
		return d, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return "", fmt.Errorf("fetch manifest %s: %w", url, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func manifestRequest(ctx context.Context, method, url string, creds *Credentials) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(creds.Username, creds.Password)
	req.Header.Set("Accept", strings.Join(manifestMediaTypes, ", "))
	return httpClient.Do(req)
}

// scheme is http for loopback registries (tests, local mirrors), else https.
func scheme(host string) string {
	h := host
	if hostOnly, _, err := net.SplitHostPort(host); err == nil {
		h = hostOnly
	}
	if h == "localhost" || h == "127.0.0.1" || h == "::1" {
		return "http"
	}
	return "https"
}
