package ecrauth

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// SourceLabel is the image label that records which source an image was
// built from (a content digest of the build context). A rebuild of the same
// source on a fresh machine usually differs in its timestamps, so its image
// digest differs too; this label is what says it is still the same release.
const SourceLabel = "io.esteira.source.digest"

// ImageLabels returns the config labels of repositoryURI:reference (a tag
// or a digest). For an image index it reads the first image's config.
func ImageLabels(ctx context.Context, creds *Credentials, repositoryURI, reference string) (map[string]string, error) {
	repo, err := openRepository(creds, repositoryURI)
	if err != nil {
		return nil, fmt.Errorf("read labels of %s:%s: %w", repositoryURI, reference, err)
	}
	ref, err := repo.reference(reference)
	if err != nil {
		return nil, fmt.Errorf("read labels of %s: %w", repositoryURI, err)
	}
	what := "read labels of " + repo.display(ref)
	p, err := repo.puller(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	desc, err := p.Get(ctx, ref)
	if err != nil {
		return nil, repo.explain(what, err)
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		img, err = firstImage(desc)
	} else {
		img, err = desc.Image()
	}
	if err != nil {
		return nil, repo.explain(what, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, repo.explain(what+": read the image config", err)
	}
	return cfg.Config.Labels, nil
}

// firstImage is the first image an index lists (a multi-platform image's
// images share their labels).
func firstImage(desc *remote.Descriptor) (v1.Image, error) {
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.MediaType.IsImage() {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("index %s lists no image", desc.Digest)
}
