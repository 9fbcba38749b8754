package main

import (
	"context"
	"fmt"
	"os"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/envrelease"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Release to another environment exactly what passed this one's quality gate.
//
// It takes this environment's newest release that succeeded with its gate
// passed and releases to --to the same image, by digest, and the same site
// build, copied from this environment's site and checked against the
// content digest that release recorded: nothing is rebuilt. --to's own gate
// runs too, and any failure brings --to back as a release does. Returns
// what each part did as JSON.
//
// +cache="never"
func (e *Environment) Promote(
	ctx context.Context,
	// The environment to release it to, e.g. production.
	to string,
	// Check the release to promote and --to's parts, print what would change, change nothing.
	// +optional
	dryRun bool,
	// Webhook to post the outcome to, as for release.
	// +optional
	notify *dagger.Secret,
) (string, error) {
	if to == e.Name {
		return "", fmt.Errorf("promote --to %s: that is this environment; promote moves a release to another one", to)
	}
	src, err := e.target(ctx, "")
	if err != nil {
		return "", err
	}
	store := src.s.releases()
	if store == nil {
		return "", fmt.Errorf("%s has no release bucket, so no record says what passed its gate: set releaseBucket in the file", e.Name)
	}
	rec, err := envrelease.Promotable(ctx, store, e.Name)
	if err != nil {
		return "", fmt.Errorf("nothing to promote, nothing was changed: %w", err)
	}
	dstEnv := *e
	dstEnv.Name = to
	dst, err := dstEnv.target(ctx, e.Name+"/"+rec.ID)
	if err != nil {
		return "", err
	}
	if len(dst.e.Functions) > 0 {
		return "", fmt.Errorf("%s has functions, and promote does not carry functions yet (their zips are not kept): release %s with env --name %s release; nothing was changed", to, to, to)
	}
	dst.notify, dst.dryRun = notify, dryRun
	fmt.Fprintf(progress(), "==> promote: %s release %s (gate passed) to %s\n", e.Name, rec.ID, to)
	plan, clients := dst.plan()
	if dst.e.Backend != nil {
		if rec.Environment.Image == "" {
			return "", fmt.Errorf("%s release %s shipped no image, but %s has a backend: nothing was changed", e.Name, rec.ID, to)
		}
		if plan.Backend, err = dst.backendPart(ctx, clients, rec.Environment.Image, "", true); err != nil {
			return "", err
		}
	}
	if dst.e.Frontend != nil {
		if src.e.Frontend == nil || rec.Environment.BuildDigest == "" {
			return "", fmt.Errorf("%s release %s published no site, but %s has a frontend: nothing was changed", e.Name, rec.ID, to)
		}
		dir, err := os.MkdirTemp("", "esteira-promote-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		if err := sitepublish.Download(ctx, siteClients(src.s, ""), src.e.Frontend.Bucket, src.e.Frontend.Prefix, dir, 0); err != nil {
			return "", fmt.Errorf("copy the %s site: %w; nothing was changed", e.Name, err)
		}
		got, err := sitepublish.BuildDigest(ctx, sitepublish.Options{Dir: dir, Bucket: src.e.Frontend.Bucket})
		if err != nil {
			return "", err
		}
		if got != rec.Environment.BuildDigest {
			return "", fmt.Errorf("the %s site changed since release %s (its content is no longer what passed the gate): release %s again, then promote; nothing was changed", e.Name, rec.ID, e.Name)
		}
		if plan.Frontend, err = dst.sitePart(dir); err != nil {
			return "", err
		}
	}
	return dst.ship(ctx, plan, clients)
}
