package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/ci/internal/hints"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/envrelease"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Site is a static site in S3: released with a verified backup, or atomically.
type Site struct {
	// +private
	M *Esteira
	// +private
	Bucket string
	// +private
	Prefix string
	// +private
	BackupBucket string
	// +private
	Atomic bool
	// +private
	KeyValueStore string
	// +private
	PointerKey string
	// +private
	DistributionID string
	// +private
	BreakLock bool
	// Release settings an environment file gives; a deploy flag wins.
	// +private
	Keep int
	// +private
	MaxDelete int
	// +private
	CacheControl string
	// +private
	Precompress []string
	// +private
	Concurrency int
	// Via is how a user reaches this site on the command line, for the
	// commands errors name: "site --bucket ..." or "env --name X site".
	// +private
	Via string
}

// A static site in S3: deploy, plan, rollback, prune, status.
func (m *Esteira) Site(
	// S3 bucket that serves the site.
	bucket string,
	// Key prefix of the site inside the bucket, e.g. www. Empty: the whole bucket.
	// +optional
	prefix string,
	// S3 bucket for backups of the live site, taken before every release (required, except with --atomic). It may be the site bucket itself only if --prefix is set, so the backup is not inside the site.
	// +optional
	backupBucket string,
	// Release to a folder of its own (prefix/release-id/) and switch the live pointer, a key of a CloudFront KeyValueStore read by the CloudFront Function in examples/cloudfront, in one step once it is complete: visitors never see a mixed site, and rollback is a switch back. No backup or invalidation.
	// +optional
	atomic bool,
	// ARN of the CloudFront KeyValueStore holding the live pointer of an atomic site (the sandbox's by default with --sandbox).
	// +optional
	keyValueStore string,
	// Key of the live pointer in the KeyValueStore. Default: bucket/prefix.
	// +optional
	pointerKey string,
	// CloudFront distribution to invalidate for the paths a release or a rollback changed.
	// +optional
	distributionId string,
	// Break a deploy lock left by a crashed run. Check first that no other release of the site is running.
	// +optional
	breakLock bool,
) (*Site, error) {
	if bucket == "" {
		return nil, fmt.Errorf("site: --bucket is empty: name the S3 bucket that serves the site")
	}
	via := "site --bucket " + bucket
	for _, f := range [][2]string{{" --prefix ", prefix}, {" --backup-bucket ", backupBucket}, {" --key-value-store ", keyValueStore},
		{" --pointer-key ", pointerKey}, {" --distribution-id ", distributionId}} {
		if f[1] != "" {
			via += f[0] + f[1]
		}
	}
	if atomic {
		via += " --atomic"
	}
	if _, err := sitepublish.AtomicSettings(atomic, keyValueStore, pointerKey); err != nil {
		return nil, hints.SiteSettings(err, via)
	}
	return &Site{M: m, Bucket: bucket, Prefix: prefix, BackupBucket: backupBucket, Atomic: atomic, KeyValueStore: keyValueStore,
		PointerKey: pointerKey, DistributionID: distributionId, BreakLock: breakLock, MaxDelete: 1000, Via: via}, nil
}

// explain adds to an error the exact command that gets the site going
// again, where the error says what happened (see hints.Site).
func (s *Site) explain(err error) error { return hints.Site(err, s.Via, s.BreakLock) }

// Publish a built site, backed up, verified and restored on failure.
//
// The site is never left empty or lost: take the site's deploy lock; back
// up the live site and verify the backup; upload only the files whose
// content changed, assets first and HTML last; delete files no longer in
// the build; verify; on any failure restore the backup and verify it byte
// for byte; invalidate CloudFront; write the release record. With --atomic
// the release goes to a folder of its own and one pointer switch makes it
// live. Returns the release record as JSON. Build the folder with
// build-frontend, or pass your own.
//
// +cache="never"
func (s *Site) Deploy(
	ctx context.Context,
	// The built site folder, e.g. ./dist.
	dist *dagger.Directory,
	// After the release, keep the site's newest N backups (atomic: releases) and delete older ones. 0: the site's setting (esteira.yaml's keep), else every one is kept.
	// +optional
	keep int,
	// Refuse the release if it would delete more than this many files (0 refuses any delete). -1: the site's setting, 1000 unless esteira.yaml sets maxDelete.
	// +optional
	// +default=-1
	maxDelete int,
	// Cache-Control rules, "pattern=value" separated by ";", first match wins, e.g. "assets/**=public, max-age=31536000, immutable;**/*.html=no-cache". Default: the site's setting, else fingerprinted assets immutable for a year and HTML no-cache.
	// +optional
	cacheControl string,
	// Also upload precompressed variants: gzip. Default: the site's setting.
	// +optional
	precompress []string,
	// Parallel S3 requests. 0: the site's setting, else 64.
	// +optional
	concurrency int,
	// Print a line per file uploaded, deleted or restored (default: a progress line every few seconds).
	// +optional
	listFiles bool,
	// Print what would be uploaded, skipped and deleted; change nothing.
	// +optional
	dryRun bool,
) (string, error) {
	o, err := s.options(keep, maxDelete, cacheControl, precompress, concurrency)
	if err != nil {
		return "", err
	}
	sess, err := s.M.aws(ctx)
	if err != nil {
		return "", err
	}
	if err := s.resolve(sess, &o); err != nil {
		return "", s.explain(err)
	}
	dir, err := exportSite(ctx, dist)
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	o.Dir, o.DryRun, o.ListFiles = dir, dryRun, listFiles
	rec, err := sitepublish.Deploy(ctx, siteClients(sess, s.DistributionID), o)
	return recordJSON(rec, s.explain(err))
}

// Show what deploy would upload, skip and delete; change nothing.
//
// +cache="session"
func (s *Site) Plan(
	ctx context.Context,
	// The built site folder, e.g. ./dist.
	dist *dagger.Directory,
	// Cache-Control rules, as for deploy.
	// +optional
	cacheControl string,
	// Precompressed variants, as for deploy: gzip.
	// +optional
	precompress []string,
) (string, error) {
	o, err := s.options(0, -1, cacheControl, precompress, 0)
	if err != nil {
		return "", err
	}
	sess, err := s.M.aws(ctx)
	if err != nil {
		return "", err
	}
	dir, err := exportSite(ctx, dist)
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	o.Dir = dir
	if o.Atomic, err = s.atomic(sess); err != nil {
		return "", s.explain(err)
	}
	plan, err := sitepublish.Plan(ctx, siteClients(sess, ""), o)
	if err != nil {
		return "", s.explain(err)
	}
	return plan.String(), nil
}

// options are the release options: the flags, else the site's settings.
func (s *Site) options(keep, maxDelete int, cacheControl string, precompress []string, concurrency int) (sitepublish.Options, error) {
	if keep == 0 {
		keep = s.Keep
	}
	if maxDelete == -1 {
		maxDelete = s.MaxDelete
	}
	if cacheControl == "" {
		cacheControl = s.CacheControl
	}
	if precompress == nil {
		precompress = s.Precompress
	}
	if concurrency == 0 {
		concurrency = s.Concurrency
	}
	if maxDelete < 0 {
		return sitepublish.Options{}, fmt.Errorf("--max-delete %d: give 0 or more (0 refuses any delete)", maxDelete)
	}
	rules, err := sitepublish.ParseCacheRules(cacheControl)
	if err != nil {
		return sitepublish.Options{}, err
	}
	return sitepublish.Options{Bucket: s.Bucket, Prefix: s.Prefix, BackupBucket: s.BackupBucket, Keep: keep,
		MaxDelete:   maxDelete,
		Concurrency: concurrency, CacheControl: rules, Precompress: precompress, DistributionID: s.DistributionID,
		BreakLock: s.BreakLock, Out: progress()}, nil
}

// resolve fills in what the session knows: the records and the atomic
// settings (the session's KeyValueStore by default); then checks the
// atomic settings, before the build.
func (s *Site) resolve(sess *awsSession, o *sitepublish.Options) error {
	o.Releases, o.Who = sess.releases(), sess.who
	var err error
	if o.Atomic, err = s.atomic(sess); err != nil || o.Atomic == nil {
		return err
	}
	return o.Atomic.Check(o.DistributionID)
}

// atomic is the site's atomic settings, with the session's KeyValueStore
// unless the site names one; nil for a site released in place.
func (s *Site) atomic(sess *awsSession) (*sitepublish.AtomicOptions, error) {
	a, err := sitepublish.AtomicSettings(s.Atomic, s.KeyValueStore, s.PointerKey)
	if a != nil && a.KeyValueStore == "" {
		a.KeyValueStore = sess.keyValueStore
	}
	return a, err
}

// Show the site's live release, its newest releases and backups, and its lock.
//
// +cache="session"
func (s *Site) Status(ctx context.Context) (string, error) {
	sess, err := s.M.aws(ctx)
	if err != nil {
		return "", err
	}
	st, err := envrelease.ReadStatus(ctx, envrelease.Clients{}, sess.releases(), envrelease.Where{Site: s.target()})
	if err != nil {
		return "", err
	}
	return st.Text(), nil
}

// target is bucket/prefix, how records and locks name the site.
func (s *Site) target() string {
	return strings.TrimSuffix(s.Bucket+"/"+strings.Trim(s.Prefix, "/"), "/")
}

// exportSite copies the site into a local folder the publish engine reads.
// The caller removes the folder.
func exportSite(ctx context.Context, dist *dagger.Directory) (string, error) {
	dir, err := os.MkdirTemp("", "esteira-site-")
	if err != nil {
		return "", err
	}
	if _, err := dist.Export(ctx, dir); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("copy the site for publishing: %s", why(err))
	}
	return dir, nil
}

func siteClients(s *awsSession, distributionID string) sitepublish.Clients {
	c := sitepublish.Clients{S3: awsenv.S3Client(s.cfg, s.opts), KeyValueStore: awsenv.KeyValueStoreClient(s.cfg, s.opts)}
	if distributionID != "" {
		c.CloudFront = cloudfront.NewFromConfig(s.cfg)
	}
	return c
}
