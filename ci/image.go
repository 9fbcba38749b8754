package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/futuraplataforma/esteira/internal/gitrev"
)

// Build the image and push it to an ECR repository.
//
// Returns the pushed reference with its digest (repo:tag@sha256:...). Tags
// are immutable: a tag that already points at another image is refused
// unless --allow-overwrite. Republishing the same source is a no-op, also
// after a rebuild on a fresh machine whose image digest differs (each image
// carries a digest of its source as a label).
//
// +cache="never"
func (m *Esteira) Publish(
	ctx context.Context,
	// The application's source folder, the Docker build context. Its .git folder, when present, gives the default tag.
	// +ignore=["**/node_modules", "**/.terraform"]
	source *dagger.Directory,
	// ECR repository name, for example backend or team/backend. It must exist.
	repository string,
	// Image tag. Default: the source's git short sha, prefixed with the version from a VERSION file or package.json (1.4.0-8f7ec8d0c2b4).
	// +optional
	tag string,
	// Path of the Dockerfile inside the source folder.
	// +optional
	// +default="Dockerfile"
	dockerfile string,
	// Move the tag even if it already points at a different image.
	// +optional
	allowOverwrite bool,
) (string, error) {
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	return m.publish(ctx, s, source, repository, tag, dockerfile, allowOverwrite, progress())
}

// publish builds source and pushes it to repository:tag after the
// immutable-tag check.
func (m *Esteira) publish(ctx context.Context, s *awsSession, source *dagger.Directory,
	repository, tag, dockerfile string, allowOverwrite bool, out io.Writer) (string, error) {
	if repository == "" {
		return "", errors.New("--repository is empty: name the ECR repository to push to, for example --repository backend")
	}
	if tag == "" {
		var err error
		if tag, err = defaultTag(ctx, source); err != nil {
			return "", err
		}
	}
	if err := ecrauth.ValidateTag(tag); err != nil {
		return "", err
	}
	client := ecr.NewFromConfig(s.cfg)
	uri, err := ecrauth.ResolveRepository(ctx, client, repository)
	if err != nil {
		return "", err
	}
	creds, err := ecrauth.Login(ctx, client, "")
	if err != nil {
		return "", err
	}
	if s.sandbox != nil {
		creds.Endpoint = s.endpoint // the sandbox serves its registry on the AWS endpoint
	} else if creds.PlainHTTP {
		return "", fmt.Errorf("ECR names registry %s over plain HTTP, which the Dagger engine pushes to only on localhost: "+
			"use HTTPS, or the sandbox (--sandbox) for a local registry", creds.Registry)
	}
	sourceID, err := source.WithoutDirectory(".git").Digest(ctx)
	if err != nil {
		return "", fmt.Errorf("hash the source folder: %s", why(err))
	}
	image := m.Build(source, dockerfile, "").WithLabel(ecrauth.SourceLabel, sourceID)
	existing, err := ecrauth.ExistingDigest(ctx, creds, uri, tag)
	if err != nil {
		return "", err
	}
	if existing != "" && !allowOverwrite {
		labels, err := ecrauth.ImageLabels(ctx, creds, uri, existing)
		if err != nil {
			return "", err
		}
		if labels[ecrauth.SourceLabel] == sourceID {
			fmt.Fprintf(out, "==> publish  %s:%s already holds an image of this source (%s); nothing pushed\n", uri, tag, existing)
			return uri + ":" + tag + "@" + existing, nil
		}
		digest, err := imageDigest(ctx, image)
		if err != nil {
			return "", err
		}
		if err := ecrauth.CheckOverwrite(uri, tag, existing, digest, false); err != nil {
			return "", fmt.Errorf("%w (the image there was built from other source); to deploy that image, pass --image %s:%s@%s", err, uri, tag, existing)
		}
		fmt.Fprintf(out, "==> publish  %s:%s already holds this image (%s); nothing pushed\n", uri, tag, existing)
		return uri + ":" + tag + "@" + existing, nil
	}
	password := dag.SetSecret("esteira-ecr-"+creds.Registry, creds.Password)
	opts := dagger.ContainerPublishOpts{}
	if s.sandbox != nil {
		opts.RegistryService = s.sandbox
	}
	ref, err := image.WithRegistryAuth(creds.Registry, creds.Username, password).Publish(ctx, uri+":"+tag, opts)
	if err != nil {
		return "", fmt.Errorf("push %s:%s: %s", uri, tag, why(err))
	}
	fmt.Fprintf(out, "==> publish  pushed %s\n", ref)
	return ref, nil
}

// imageDigest is the manifest digest the image will have once pushed, read
// from its OCI tarball, so an existing tag can be compared before pushing.
func imageDigest(ctx context.Context, image *dagger.Container) (string, error) {
	dir, err := os.MkdirTemp("", "esteira-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "image.tar")
	if _, err := image.AsTarball().Export(ctx, path); err != nil {
		return "", fmt.Errorf("export the built image to compute its digest: %s", why(err))
	}
	return ecrauth.ManifestDigestOfOCITarball(path)
}

// defaultTag is the source's git short sha, prefixed with its version.
func defaultTag(ctx context.Context, source *dagger.Directory) (string, error) {
	dir, err := os.MkdirTemp("", "esteira-source-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	hasGit, err := source.Exists(ctx, ".git/HEAD")
	if err != nil {
		return "", fmt.Errorf("look for .git in the source: %s", why(err))
	}
	if !hasGit {
		return "", errors.New("no --tag given and the source has no .git folder to take a commit id from: pass --tag (for example --tag $GIT_COMMIT)")
	}
	meta := source.Filter(dagger.DirectoryFilterOpts{Include: []string{
		".git/HEAD", ".git/packed-refs", ".git/refs/**", "VERSION", "package.json",
	}})
	if _, err := meta.Export(ctx, dir); err != nil {
		return "", fmt.Errorf("read the source's .git folder: %s", why(err))
	}
	sha, err := gitrev.Head(os.DirFS(filepath.Join(dir, ".git")))
	if err != nil {
		return "", fmt.Errorf("find the source's commit for the default tag (pass --tag to choose one): %w", err)
	}
	return ecrauth.DefaultTag(gitrev.Short(sha), ecrauth.VersionFromSource(dir)), nil
}
