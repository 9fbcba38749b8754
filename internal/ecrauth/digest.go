package ecrauth

import (
	"context"
	"fmt"
	"net/http"
)

// ExistingDigest asks the registry which manifest repositoryURI:tag points
// at and returns its digest, or "" when the tag (or the repository's first
// image) does not exist yet. It speaks plain HTTP when the token said so or
// to loopback hosts, HTTPS elsewhere, to creds.BaseURL().
func ExistingDigest(ctx context.Context, creds *Credentials, repositoryURI, tag string) (string, error) {
	if err := ValidateTag(tag); err != nil {
		return "", err
	}
	repo, err := openRepository(creds, repositoryURI)
	if err != nil {
		return "", fmt.Errorf("look up existing tag %s: %w", tag, err)
	}
	what := "look up " + repo.path + ":" + tag
	p, err := repo.puller(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	ref := repo.ref.Tag(tag)
	desc, err := p.Head(ctx, ref)
	if err == nil {
		return desc.Digest.String(), nil
	}
	if manifestUnknown(err) {
		return "", nil
	}
	switch statusOf(err) {
	case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
		return "", repo.explain(what, err)
	}
	// A registry need not answer HEAD, nor send the digest header with it:
	// GET the manifest, whose digest go-containerregistry computes if need be.
	got, err := p.Get(ctx, ref)
	if manifestUnknown(err) {
		return "", nil
	}
	if err != nil {
		return "", repo.explain(what, err)
	}
	return got.Digest.String(), nil
}
