package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Publish a static site to S3, backed up, verified and restored on failure.
//
// The site is never left empty or lost: take the site's deploy lock; build
// the site (or take --dist); back up the live site and verify the backup;
// upload only the files whose content changed, assets first and HTML last;
// delete files no longer in the build; verify what was written and deleted;
// on any failure restore the backup and verify it byte for byte; optionally
// invalidate CloudFront; write the release record. Returns the release
// record as JSON.
//
// Backups are by reference: each distinct content is stored once in the
// backup bucket (under .esteira/content/, named by its SHA-256) and a
// backup is a manifest of every path of the site, so a small release of a
// large site copies only what changed since the last backup, and every
// backup still restores the whole site on its own. --keep prunes old ones.
//
// +cache="never"
func (m *Esteira) DeployFrontend(
	ctx context.Context,
	// S3 bucket that serves the site.
	bucket string,
	// S3 bucket for backups of the live site, taken before every release (required, except with --atomic). It may be the site bucket itself only if --prefix is set, so the backup is not inside the site.
	// +optional
	backupBucket string,
	// Key prefix of the site inside the bucket, e.g. www. Empty: the whole bucket.
	// +optional
	prefix string,
	// Frontend source folder to build with npm (see build-frontend).
	// +optional
	// +ignore=["**/node_modules", ".git"]
	source *dagger.Directory,
	// An already-built site folder to publish instead of building --source.
	// +optional
	dist *dagger.Directory,
	// Node image to build with.
	// +optional
	// +default="node:22-bookworm-slim"
	nodeImage string,
	// Command that builds the site, run with sh -c after npm ci.
	// +optional
	// +default="npm run build"
	buildCommand string,
	// Folder, relative to the source, that the build writes the site to.
	// +optional
	// +default="dist"
	buildDir string,
	// After a release, keep the site's newest N backups and delete older ones with the contents no kept backup refers to (see prune-frontend); with --atomic, the newest N releases. 0 keeps every one.
	// +optional
	keep int,
	// Release to a folder of its own (prefix/release-id/) and switch the live pointer, a key of a CloudFront KeyValueStore read by the CloudFront Function in examples/cloudfront, in one step once it is complete: visitors never see a mixed site, and rollback-frontend is a switch back. Needs --key-value-store; no backup or invalidation.
	// +optional
	atomic bool,
	// ARN of the CloudFront KeyValueStore holding the live pointer of an atomic site (the sandbox's by default with --sandbox).
	// +optional
	keyValueStore string,
	// Key of the live pointer in the KeyValueStore. Default: bucket/prefix.
	// +optional
	pointerKey string,
	// Refuse the release if it would delete more than this many files (0 refuses any delete).
	// +optional
	// +default=1000
	maxDelete int,
	// Parallel S3 requests.
	// +optional
	// +default=64
	concurrency int,
	// Cache-Control rules, "pattern=value" separated by ";", first match wins, e.g. "assets/**=public, max-age=31536000, immutable;**/*.html=no-cache". Default: fingerprinted assets immutable for a year, HTML no-cache.
	// +optional
	cacheControl string,
	// Also upload precompressed variants: gzip.
	// +optional
	precompress []string,
	// CloudFront distribution to invalidate for the changed paths.
	// +optional
	distributionId string,
	// Print a line per file uploaded, deleted or restored (default: a progress line every few seconds).
	// +optional
	listFiles bool,
	// Print what would be uploaded, skipped and deleted; change nothing.
	// +optional
	dryRun bool,
	// Break a deploy lock left by a crashed run.
	// +optional
	breakLock bool,
	// Age after which a deploy lock is reported as stale, e.g. 1h.
	// +optional
	// +default="1h"
	lockStaleAfter string,
) (string, error) {
	durations, err := parseDurations(map[string]string{"--lock-stale-after": lockStaleAfter})
	if err != nil {
		return "", err
	}
	rules, err := sitepublish.ParseCacheRules(cacheControl)
	if err != nil {
		return "", err
	}
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	if atomic {
		keyValueStore = s.keyValueStore(keyValueStore)
		if err := sitepublish.CheckAtomic(keyValueStore, pointerKey, distributionId); err != nil {
			return "", err
		}
	}
	dir, prior, err := m.siteFolder(ctx, source, dist, nodeImage, buildCommand, buildDir)
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	rec, err := sitepublish.Deploy(ctx, m.siteClients(s, distributionId), sitepublish.Options{
		Dir: dir, Bucket: bucket, Prefix: prefix, BackupBucket: backupBucket, Keep: keep,
		Atomic: atomic, KeyValueStore: keyValueStore, PointerKey: pointerKey,
		MaxDelete: maxDelete, Concurrency: concurrency, CacheControl: rules, Precompress: precompress,
		DistributionID: distributionId, DryRun: dryRun, ListFiles: listFiles,
		Releases: m.releases(s), LockStaleAfter: durations["--lock-stale-after"], BreakLock: breakLock, Who: s.who,
		PriorSteps: prior, Out: progress(),
	})
	return recordJSON(rec, err)
}

// Show what deploy-frontend would upload, skip and delete; change nothing.
//
// It is never cached: the plan depends on what is in the bucket now.
//
// +cache="never"
func (m *Esteira) PlanFrontend(
	ctx context.Context,
	// S3 bucket that serves the site.
	bucket string,
	// Key prefix of the site inside the bucket. Empty: the whole bucket.
	// +optional
	prefix string,
	// Frontend source folder to build with npm.
	// +optional
	// +ignore=["**/node_modules", ".git"]
	source *dagger.Directory,
	// An already-built site folder instead of --source.
	// +optional
	dist *dagger.Directory,
	// Node image to build with.
	// +optional
	// +default="node:22-bookworm-slim"
	nodeImage string,
	// Command that builds the site.
	// +optional
	// +default="npm run build"
	buildCommand string,
	// Folder, relative to the source, that the build writes the site to.
	// +optional
	// +default="dist"
	buildDir string,
	// Cache-Control rules, as for deploy-frontend.
	// +optional
	cacheControl string,
	// Precompressed variants, as for deploy-frontend: gzip.
	// +optional
	precompress []string,
) (string, error) {
	rules, err := sitepublish.ParseCacheRules(cacheControl)
	if err != nil {
		return "", err
	}
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	dir, _, err := m.siteFolder(ctx, source, dist, nodeImage, buildCommand, buildDir)
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	plan, err := sitepublish.Plan(ctx, m.siteClients(s, ""), sitepublish.Options{
		Dir: dir, Bucket: bucket, Prefix: prefix, CacheControl: rules, Precompress: precompress, Out: progress(),
	})
	if err != nil {
		return "", err
	}
	return plan.String(), nil
}

// Restore a site from a backup taken by deploy-frontend.
//
// Default: the backup taken by the last release, i.e. the site as it was
// before it. The restored site is verified byte-identical to the backup.
//
// +cache="never"
func (m *Esteira) RollbackFrontend(
	ctx context.Context,
	// S3 bucket that serves the site.
	bucket string,
	// S3 bucket the backups were written to (not needed for an atomic site).
	// +optional
	backupBucket string,
	// Key prefix of the site inside the bucket.
	// +optional
	prefix string,
	// Release id of the backup to restore (see the release records), or for an atomic site the release to switch back to. Default: the backup taken by the last release, or the release the live one replaced.
	// +optional
	backup string,
	// Parallel S3 requests.
	// +optional
	// +default=64
	concurrency int,
	// CloudFront distribution to invalidate for the restored paths.
	// +optional
	distributionId string,
	// Print a line per file uploaded, deleted or restored (default: a progress line every few seconds).
	// +optional
	listFiles bool,
	// Break a deploy lock left by a crashed run.
	// +optional
	breakLock bool,
	// ARN of the CloudFront KeyValueStore of an atomic site: the rollback is then one switch of its live pointer back to the release --backup names, or by default to the release the live one replaced.
	// +optional
	keyValueStore string,
	// Key of the live pointer in the KeyValueStore. Default: bucket/prefix.
	// +optional
	pointerKey string,
) (string, error) {
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	rec, err := sitepublish.Rollback(ctx, m.siteClients(s, distributionId), sitepublish.RollbackOptions{
		KeyValueStore: keyValueStore, PointerKey: pointerKey,
		Bucket: bucket, Prefix: prefix, BackupBucket: backupBucket, Backup: backup, DistributionID: distributionId,
		Releases: m.releases(s), Who: s.who, BreakLock: breakLock, Concurrency: concurrency, Out: progress(), ListFiles: listFiles,
	})
	return recordJSON(rec, err)
}

// Delete a site's old backups, keeping the newest --keep.
//
// Under the site's deploy lock, so no release runs meanwhile: the newest
// --keep backups stay, older ones are deleted (manifest first), then the
// stored contents no remaining backup refers to. Contents copied in the last
// six hours are left for a later prune, in case a release is about to refer
// to them. Every remaining backup still restores the whole site on its own.
// Returns what was deleted as JSON.
//
// +cache="never"
func (m *Esteira) PruneFrontend(
	ctx context.Context,
	// S3 bucket that serves the site.
	bucket string,
	// How many of the site's newest backups (or, atomic, releases) to keep (1 or more).
	keep int,
	// S3 bucket the backups were written to (not needed for an atomic site).
	// +optional
	backupBucket string,
	// Key prefix of the site inside the bucket.
	// +optional
	prefix string,
	// Print what would be deleted; delete nothing.
	// +optional
	dryRun bool,
	// Break a deploy lock left by a crashed run.
	// +optional
	breakLock bool,
	// ARN of the CloudFront KeyValueStore of an atomic site: prune its release folders instead, never the live one nor the one before it.
	// +optional
	keyValueStore string,
	// Key of the live pointer in the KeyValueStore. Default: bucket/prefix.
	// +optional
	pointerKey string,
) (string, error) {
	s, err := m.aws(ctx)
	if err != nil {
		return "", err
	}
	res, err := sitepublish.Prune(ctx, m.siteClients(s, ""), sitepublish.PruneOptions{
		KeyValueStore: keyValueStore, PointerKey: pointerKey,
		Bucket: bucket, Prefix: prefix, BackupBucket: backupBucket, Keep: keep, DryRun: dryRun,
		Releases: m.releases(s), Who: s.who, BreakLock: breakLock, Out: progress(),
	})
	if err != nil {
		return "", err
	}
	out, err := json.MarshalIndent(res, "", "  ")
	return string(out), err
}

// siteFolder builds or takes the site and copies it into a local folder
// the publish engine reads. The caller removes the folder.
func (m *Esteira) siteFolder(ctx context.Context, source, dist *dagger.Directory,
	nodeImage, buildCommand, buildDir string) (string, []release.Step, error) {
	if (source == nil) == (dist == nil) {
		return "", nil, errors.New("pass either --source to build the site or --dist with an already-built site")
	}
	var steps []release.Step
	if source != nil {
		rec := &release.Record{}
		started := time.Now()
		built, err := m.BuildFrontend(ctx, source, nodeImage, buildCommand, buildDir)
		rec.Step("build", started, err, "")
		fmt.Fprintf(progress(), "==> build    %s (%s)\n", outcome(err), time.Since(started).Round(time.Second))
		if err != nil {
			return "", nil, fmt.Errorf("build failed, nothing was changed: %s", why(err))
		}
		dist, steps = built, rec.Steps
	}
	dir, err := os.MkdirTemp("", "esteira-site-")
	if err != nil {
		return "", nil, err
	}
	if _, err := dist.Export(ctx, dir); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("copy the site for publishing: %s", why(err))
	}
	return dir, steps, nil
}

func (m *Esteira) siteClients(s *awsSession, distributionID string) sitepublish.Clients {
	c := sitepublish.Clients{S3: awsenv.S3Client(s.cfg, s.opts), KeyValueStore: awsenv.KeyValueStoreClient(s.cfg, s.opts)}
	if distributionID != "" {
		c.CloudFront = cloudfront.NewFromConfig(s.cfg)
	}
	return c
}

// keyValueStore is the store ARN given, or the sandbox's with --sandbox.
func (s *awsSession) keyValueStore(arn string) string {
	if arn == "" && s.sandbox != nil {
		return sandbox.KeyValueStoreARN
	}
	return arn
}
