package ecrauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// SourceLabel is the image label that records which source an image was
// built from (a content digest of the build context). A rebuild of the same
// source on a fresh machine usually differs in its timestamps, so its image
// digest differs too; this label is what says it is still the same release.
const SourceLabel = "io.esteira.source.digest"

// ImageLabels returns the config labels of repositoryURI:reference (a tag
// or a digest). For an image index it reads the first manifest's config.
func ImageLabels(ctx context.Context, creds *Credentials, repositoryURI, reference string) (map[string]string, error) {
	if creds == nil {
		return nil, fmt.Errorf("read labels of %s:%s: no registry credentials: log in first", repositoryURI, reference)
	}
	_, name, ok := strings.Cut(repositoryURI, "/")
	if !ok || name == "" {
		return nil, fmt.Errorf("read labels: repository URI %q is not host/name", repositoryURI)
	}
	base := creds.BaseURL() + "/v2/" + name
	var manifest struct {
		Config    struct{ Digest string }
		Manifests []struct{ Digest string }
	}
	if err := registryJSON(ctx, base+"/manifests/"+reference, creds, &manifest); err != nil {
		return nil, fmt.Errorf("read manifest of %s:%s: %w", repositoryURI, reference, err)
	}
	if manifest.Config.Digest == "" && len(manifest.Manifests) > 0 {
		if err := registryJSON(ctx, base+"/manifests/"+manifest.Manifests[0].Digest, creds, &manifest); err != nil {
			return nil, fmt.Errorf("read manifest of %s@%s: %w", repositoryURI, manifest.Manifests[0].Digest, err)
		}
	}
	if manifest.Config.Digest == "" {
		return nil, fmt.Errorf("read manifest of %s:%s: it names no image config", repositoryURI, reference)
	}
	var config struct {
		Config struct{ Labels map[string]string }
	}
	if err := registryJSON(ctx, base+"/blobs/"+manifest.Config.Digest, creds, &config); err != nil {
		return nil, fmt.Errorf("read image config of %s:%s: %w", repositoryURI, reference, err)
	}
	return config.Config.Labels, nil
}

// registryJSON GETs url with the registry credentials and decodes the body.
func registryJSON(ctx context.Context, url string, creds *Credentials, into any) error {
	resp, err := manifestRequest(ctx, http.MethodGet, url, creds)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("registry answered HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(into)
}
