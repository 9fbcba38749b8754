package main

import (
	"context"
	"fmt"
	"os"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/envrelease"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Promote to one environment exactly what passed the quality gate in another.
//
// It takes the newest release of --from that succeeded with its quality
// gate passed and releases to --to the same image, by digest, and the same
// frontend build, copied from --from's site and checked against the content
// digest that release recorded: nothing is rebuilt. --from must have a gate.
// --to's own gate runs too, and any failure brings --to back as a release
// does. Returns what each part did as JSON.
//
// +cache="never"
func (m *Esteira) Promote(
	ctx context.Context,
	// The environment whose tested release to take, e.g. staging.
	from string,
	// The environment to release it to, e.g. production.
	to string,
	// The project: esteira.yaml.
	// +defaultPath="/"
	// +ignore=["**/node_modules", ".cache", "**/.terraform"]
	project *dagger.Directory,
	// The environment file, relative to the project.
	// +optional
	// +default="esteira.yaml"
	file string,
	// How long to wait for the migration and for each rollout, e.g. 15m.
	// +optional
	// +default="15m"
	timeout string,
	// How often to poll ECS while waiting, e.g. 5s.
	// +optional
	// +default="5s"
	pollInterval string,
	// Break deploy locks left by a crashed run.
	// +optional
	breakLock bool,
	// Webhook to post the outcome to, as for release.
	// +optional
	notify *dagger.Secret,
) (string, error) {
	durations, err := parseDurations(map[string]string{"--timeout": timeout, "--poll-interval": pollInterval})
	if err != nil {
		return "", err
	}
	if from == to {
		return "", fmt.Errorf("--from and --to are both %s: promote moves a release to another environment", from)
	}
	src, inFrom, sFrom, err := m.environment(ctx, project, file, from)
	if err != nil {
		return "", err
	}
	dst, inTo, sTo, err := m.environment(ctx, project, file, to)
	if err != nil {
		return "", err
	}
	store := inFrom.releases(sFrom)
	if store == nil {
		return "", fmt.Errorf("%s has no release bucket, so no record says what passed its gate: set releaseBucket in the file", from)
	}
	rec, err := envrelease.Promotable(ctx, store, from)
	if err != nil {
		return "", fmt.Errorf("nothing to promote, nothing was changed: %w", err)
	}
	if len(dst.Functions) > 0 {
		return "", fmt.Errorf("%s has functions, and promote does not carry functions yet (their zips are not kept): release %s with release --env %s; nothing was changed", to, to, to)
	}
	fmt.Fprintf(progress(), "==> promote: %s release %s (gate passed) to %s\n", from, rec.ID, to)
	t := target{env: to, e: dst, in: inTo, s: sTo, timeout: durations["--timeout"], poll: durations["--poll-interval"],
		breakLock: breakLock, notify: notify, promotedFrom: from + "/" + rec.ID}
	plan, clients, err := t.plan(ctx)
	if err != nil {
		return "", err
	}
	if dst.Backend != nil {
		if rec.Environment.Image == "" {
			return "", fmt.Errorf("%s release %s shipped no image, but %s has a backend: nothing was changed", from, rec.ID, to)
		}
		if plan.Backend, err = inTo.backendPart(ctx, sTo, clients.ECS, project, dst, rec.Environment.Image, "", true); err != nil {
			return "", err
		}
	}
	if dst.Frontend != nil {
		if src.Frontend == nil || rec.Environment.BuildDigest == "" {
			return "", fmt.Errorf("%s release %s published no site, but %s has a frontend: nothing was changed", from, rec.ID, to)
		}
		dir, err := os.MkdirTemp("", "esteira-promote-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(dir)
		fc := inFrom.siteClients(sFrom, "")
		if err := sitepublish.Download(ctx, fc, src.Frontend.Bucket, src.Frontend.Prefix, dir, 0); err != nil {
			return "", fmt.Errorf("copy the %s site: %w; nothing was changed", from, err)
		}
		got, err := sitepublish.BuildDigest(ctx, sitepublish.Options{Dir: dir, Bucket: src.Frontend.Bucket})
		if err != nil {
			return "", err
		}
		if got != rec.Environment.BuildDigest {
			return "", fmt.Errorf("the %s site changed since release %s (its content is no longer what passed the gate): release %s again, then promote; nothing was changed", from, rec.ID, from)
		}
		plan.Frontend = t.site(dir, nil)
	}
	return t.ship(ctx, plan, clients)
}
