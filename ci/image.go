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
	"github.com/futuraplataforma/esteira/ci/internal/hints"
	"github.com/futuraplataforma/esteira/internal/ecrauth"
	"github.com/futuraplataforma/esteira/internal/gitrev"
)

// Push an image to an ECR repository: a container you built, or one built from source.
//
// Returns the pushed reference with its digest (repo:tag@sha256:...). Give
// exactly one of --container (any image, e.g. from your own module) or
// --source (built from its Dockerfile). Tags are immutable: a tag that
// already points at another image is refused unless --allow-overwrite.
// Republishing the same image, or the same source (also after a rebuild on
// a fresh machine, by a digest of the source kept as a label), is a no-op.
//
// +cache="never"
func (m *Esteira) Publish(
	ctx context.Context,
	// ECR repository name, for example backend or team/backend. It must exist.
	repository string,
	// The image to push, built by build or by your own module.
	// +optional
	container *dagger.Container,
	// A source folder to build with its Dockerfile and push. Its .git folder, when present, gives the default tag.
	// +optional
	// +ignore=["**/node_modules", "**/.terraform"]
	source *dagger.Directory,
	// Image tag. Default with --source: the source's git short sha, prefixed with the version from a VERSION file or package.json (1.4.0-8f7ec8d0c2b4). Required with --container.
	// +optional
	tag string,
	// Path of the Dockerfile inside --source.
	// +optional
	// +default="Dockerfile"
	dockerfile string,
	// Move the tag even if it already points at a different image.
	// +optional
	allowOverwrite bool,
	// Check the repository and the tag, print what would be pushed, push nothing.
	// +optional
	dryRun bool,
) (string, error) {
	if (container == nil) == (source == nil) {
		return "", errors.New("publish: give exactly one of --container (an image) or --source (a folder to build)")
	}
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	p := push{repository: repository, tag: tag, allowOverwrite: allowOverwrite, dryRun: dryRun, out: progress()}
	if source != nil {
		return p.source(ctx, s, source, dockerfile)
	}
	return p.image(ctx, s, container)
}

// push is one publish: where to, and how.
type push struct {
	repository, tag string
	allowOverwrite  bool
	dryRun          bool
	out             io.Writer
}

// target resolves the repository and logs in to its registry.
func (p push) target(ctx context.Context, s *awsSession) (string, *ecrauth.Credentials, error) {
	if p.repository == "" {
		return "", nil, errors.New("--repository is empty: name the ECR repository to push to, for example --repository backend")
	}
	if err := ecrauth.ValidateTag(p.tag); err != nil {
		return "", nil, hints.Flags(err, hints.Publish)
	}
	client := ecr.NewFromConfig(s.cfg)
	uri, err := ecrauth.ResolveRepository(ctx, client, p.repository)
	if err != nil {
		return "", nil, hints.Flags(err, hints.Publish)
	}
	creds, err := ecrauth.Login(ctx, client, "")
	if err != nil {
		return "", nil, err
	}
	if s.registryEndpoint != "" {
		creds.Endpoint = s.registryEndpoint
	} else if creds.PlainHTTP {
		return "", nil, fmt.Errorf("ECR names registry %s over plain HTTP, which the Dagger engine pushes to only on localhost: "+
			"use HTTPS, or the sandbox (--sandbox) for a local registry", creds.Registry)
	}
	return uri, creds, nil
}

// source builds the folder and pushes it, recognising a rebuild of the
// same source by its label.
func (p push) source(ctx context.Context, s *awsSession, source *dagger.Directory, dockerfile string) (string, error) {
	if p.tag == "" {
		var err error
		if p.tag, err = defaultTag(ctx, source); err != nil {
			return "", err
		}
	}
	uri, creds, err := p.target(ctx, s)
	if err != nil {
		return "", err
	}
	sourceID, err := source.WithoutDirectory(".git").Digest(ctx)
	if err != nil {
		return "", fmt.Errorf("hash the source folder: %s", why(err))
	}
	image := build(source, dockerfile, "", nil).WithLabel(ecrauth.SourceLabel, sourceID)
	existing, err := ecrauth.ExistingDigest(ctx, creds, uri, p.tag)
	if err != nil {
		return "", err
	}
	if existing != "" && !p.allowOverwrite {
		labels, err := ecrauth.ImageLabels(ctx, creds, uri, existing)
		if err != nil {
			return "", err
		}
		if labels[ecrauth.SourceLabel] == sourceID {
			fmt.Fprintf(p.out, "==> publish  %s:%s already holds an image of this source (%s); nothing pushed\n", uri, p.tag, existing)
			return uri + ":" + p.tag + "@" + existing, nil
		}
		return p.same(ctx, image, uri, existing, " (the image there was built from other source)")
	}
	return p.send(ctx, s, creds, image, uri)
}

// image pushes a container as it is.
func (p push) image(ctx context.Context, s *awsSession, image *dagger.Container) (string, error) {
	if p.tag == "" {
		return "", errors.New("--container needs --tag: an image has no commit to name it after, for example --tag $GIT_COMMIT")
	}
	uri, creds, err := p.target(ctx, s)
	if err != nil {
		return "", err
	}
	existing, err := ecrauth.ExistingDigest(ctx, creds, uri, p.tag)
	if err != nil {
		return "", err
	}
	if existing != "" && !p.allowOverwrite {
		return p.same(ctx, image, uri, existing, "")
	}
	return p.send(ctx, s, creds, image, uri)
}

// same returns the existing reference when the tag already holds this very
// image, and refuses to move it otherwise.
func (p push) same(ctx context.Context, image *dagger.Container, uri, existing, why string) (string, error) {
	digest, err := imageDigest(ctx, image)
	if err != nil {
		return "", err
	}
	if err := ecrauth.CheckOverwrite(uri, p.tag, existing, digest, false); err != nil {
		return "", hints.Flags(fmt.Errorf("%w%s; to deploy that image, pass --image %s:%s@%s", err, why, uri, p.tag, existing), hints.Publish)
	}
	fmt.Fprintf(p.out, "==> publish  %s:%s already holds this image (%s); nothing pushed\n", uri, p.tag, existing)
	return uri + ":" + p.tag + "@" + existing, nil
}

// send pushes the image, or says it would.
func (p push) send(ctx context.Context, s *awsSession, creds *ecrauth.Credentials, image *dagger.Container, uri string) (string, error) {
	if p.dryRun {
		fmt.Fprintf(p.out, "==> dry run: would push %s:%s; nothing was pushed\n", uri, p.tag)
		return uri + ":" + p.tag, nil
	}
	password := dag.SetSecret("esteira-ecr-"+creds.Registry, creds.Password)
	ref, err := image.WithRegistryAuth(creds.Registry, creds.Username, password).
		Publish(ctx, uri+":"+p.tag, dagger.ContainerPublishOpts{RegistryService: s.registry})
	if err != nil {
		return "", fmt.Errorf("push %s:%s: %s", uri, p.tag, why(err))
	}
	fmt.Fprintf(p.out, "==> publish  pushed %s\n", ref)
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
