package sitepublish

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/futuraplataforma/esteira/internal/release"
)

// Options configure Deploy and Plan.
type Options struct {
	// Dir is the local build output to publish. Required.
	Dir string
	// Bucket and Prefix are the live site. Bucket is required; an empty Prefix is the whole bucket.
	Bucket, Prefix string
	// BackupBucket receives a verified backup of the live site before every
	// release, under BackupPrefix/<release-id>/. BackupPrefix defaults to
	// Prefix, or to esteira-backups/<Prefix> when BackupBucket is the site
	// bucket. The backup may not lie inside the site (nor the site inside it).
	BackupBucket, BackupPrefix string
	// Keep, when above 0, prunes after a release that took a backup: the
	// site's newest Keep backups stay, older ones are deleted, and so are the
	// contents no remaining backup refers to (see Prune). 0 keeps every
	// backup.
	Keep int
	// Atomic releases to an immutable folder of its own, <Prefix>/<release
	// id>/, and then switches the live pointer in one step: the key
	// PointerKey (default bucket/prefix) of the CloudFront KeyValueStore
	// KeyValueStore (its ARN; needs Clients.KeyValueStore), read by the
	// CloudFront Function in examples/cloudfront. Unchanged files are copied
	// server-side from the live release, never uploaded; no backup is taken
	// (the live release's folder is never changed) and no invalidation is
	// needed (each release has its own paths). Keep then counts releases.
	Atomic                    bool
	KeyValueStore, PointerKey string
	// MaxDelete refuses a release deleting more objects than this, before
	// any change: 0 refuses any delete (as --max-delete 0 asks), -1 means no
	// limit. a site deploy passes its max-delete setting, 1000 by default.
	MaxDelete int
	// Concurrency is the number of parallel S3 requests (default 64).
	Concurrency int
	// PartSize is the multipart part size and threshold (default and minimum 5 MiB).
	PartSize int64
	// CacheControl rules, first match wins; nil means DefaultCacheRules.
	CacheControl []CacheRule
	// Precompress adds precompressed variants (<file>.gz, Content-Encoding
	// gzip) of text files of 1 KiB or more: "gzip". "br" is refused: Go's
	// standard library has no Brotli encoder and esteira adds no dependency for it.
	Precompress []string
	// DistributionID is the CloudFront distribution to invalidate (needs
	// Clients.CloudFront). InvalidationLimit (default 50) is the number of
	// paths above which one "/*" is sent instead.
	DistributionID    string
	InvalidationLimit int
	// DryRun prints the plan and changes nothing (no lock, no record).
	DryRun bool
	// Releases stores the deploy lock and the release record; nil means neither.
	Releases       *release.Store
	LockStaleAfter time.Duration
	BreakLock      bool
	// Who is recorded as the lock holder: user@host or a CI job URL.
	Who string
	// PriorSteps (e.g. the build) are put first in the release record.
	PriorSteps []release.Step
	// Out receives progress lines; nil discards them. ListFiles adds a
	// line per file uploaded, deleted or restored.
	Out       io.Writer
	ListFiles bool
}

func (o Options) report() report { return report{out: o.Out, files: o.ListFiles} }

const (
	defaultConcurrency       = 64
	defaultInvalidationLimit = 50
)

// withDefaults validates o without touching AWS and fills in defaults.
// needBackup is false for Plan, which never writes.
func (o Options) withDefaults(needBackup bool) (Options, error) {
	if o.Bucket == "" {
		return o, fmt.Errorf("bucket is empty: pass --bucket, the S3 bucket that serves the site")
	}
	if err := validatePrefix("--prefix", o.Prefix); err != nil {
		return o, err
	}
	if err := validatePrefix("backup prefix", o.BackupPrefix); err != nil {
		return o, err
	}
	if err := checkStoreApart(o.Bucket, o.Prefix, o.Releases); err != nil {
		return o, err
	}
	if err := checkDir(o.Dir); err != nil {
		return o, err
	}
	if o.Atomic {
		if err := CheckAtomic(o.KeyValueStore, o.PointerKey, o.DistributionID); err != nil {
			return o, err
		}
		needBackup = false
		if o.PointerKey == "" {
			o.PointerKey = target(newLocation(o.Bucket, o.Prefix))
		}
	}
	if needBackup && o.BackupBucket == "" {
		return o, fmt.Errorf("backup bucket is empty: pass --backup-bucket, where the live site is copied before it changes")
	}
	for _, enc := range o.Precompress {
		switch enc {
		case "gzip":
		case "br":
			return o, fmt.Errorf("precompress %q is not supported: Go's standard library has no Brotli encoder; use gzip", enc)
		default:
			return o, fmt.Errorf("precompress %q is unknown: the supported value is gzip", enc)
		}
	}
	if o.Keep < 0 {
		return o, fmt.Errorf("keep %d is negative: pass how many backups to keep, or 0 to keep every one", o.Keep)
	}
	if o.PartSize != 0 && o.PartSize < defaultPartSize {
		return o, fmt.Errorf("part size %d is below S3's minimum of %d bytes: pass a larger part size or 0 for the default", o.PartSize, defaultPartSize)
	}
	if o.Concurrency < 0 || o.MaxDelete < -1 || o.InvalidationLimit < 0 {
		return o, fmt.Errorf("concurrency, max-delete and invalidation limit must not be negative (max-delete -1 means no limit)")
	}
	if o.DistributionID != "" && o.InvalidationLimit == 0 {
		o.InvalidationLimit = defaultInvalidationLimit
	}
	o.Concurrency = orDefault(o.Concurrency, defaultConcurrency)
	o.BackupPrefix = defaultBackupPrefix(o.Bucket, o.Prefix, o.BackupBucket, o.BackupPrefix)
	if o.Out == nil {
		o.Out = io.Discard
	}
	o.Who = whoOrDefault(o.Who)
	return o, nil
}

// whoOrDefault is who, or user@host of this process.
func whoOrDefault(who string) string {
	if who != "" {
		return who
	}
	host, _ := os.Hostname()
	user := os.Getenv("USER")
	if user == "" {
		user = "unknown"
	}
	return user + "@" + host
}

func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func checkDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("build folder is empty: pass the folder holding the built site")
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("build folder %s: %w: check the folder the build writes (--build-dir) or --dist", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("build folder %s is a file, not a folder: pass the folder holding the built site", dir)
	}
	return nil
}

func defaultBackupPrefix(bucket, prefix, backupBucket, backupPrefix string) string {
	switch {
	case backupPrefix != "":
		return backupPrefix
	case backupBucket == bucket:
		return "esteira-backups/" + strings.Trim(prefix, "/")
	}
	return prefix
}

// backupAt is the backup location of release id under the backup root.
func backupAt(bucket, root, id string) location {
	return newLocation(bucket, strings.Trim(root, "/")+"/"+id)
}

// checkApart refuses a backup inside the site (it would back up into
// itself, and a publish would delete it) or a site inside the backup root.
func checkApart(site, backupRoot location) error {
	if site.contains(backupRoot) {
		return fmt.Errorf("backup location %s is inside the site %s: it would back up into itself; pass a different --backup-bucket or backup prefix", backupRoot, site)
	}
	if backupRoot.contains(site) {
		return fmt.Errorf("site %s is inside the backup location %s: pass a different --backup-bucket or backup prefix", site, backupRoot)
	}
	return nil
}

// target names the site in release records and lock names: bucket/prefix.
func target(site location) string {
	return strings.TrimSuffix(site.Bucket+"/"+site.Prefix, "/")
}

// checkStoreApart refuses a release store (locks and records) that a
// release of the site would list as its own files: it would delete the
// previous records and its own held lock as files gone from the build.
func checkStoreApart(bucket, prefix string, store *release.Store) error {
	if store == nil || store.Bucket() != bucket {
		return nil
	}
	site, records := newLocation(bucket, prefix), newLocation(bucket, store.Prefix())
	if site.contains(records) {
		return fmt.Errorf("the release store s3://%s/%s is inside the site %s: "+
			"a release would delete its own lock and the records rollbacks need; keep the release store (its bucket or prefix) outside the site",
			bucket, records.Prefix, site)
	}
	return nil
}

// validatePrefix checks a key prefix up front, so a bad one fails with a
// clear error before anything changes instead of midway (a//b, ./www and
// ../www name keys that S3 or a restore treat differently from what the
// user meant). Any other UTF-8 is a valid S3 key: "my site", "sitio/ção",
// "www~1". One leading or trailing '/' is tolerated and dropped.
func validatePrefix(flag, p string) error {
	trimmed := strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
	if trimmed == "" {
		return nil
	}
	why := ""
	switch {
	case !utf8.ValidString(p):
		why = "it is not valid UTF-8"
	case strings.ContainsFunc(p, func(r rune) bool { return unicode.IsControl(r) }):
		why = "it holds a control character"
	case strings.Contains(p, `\`):
		why = `it holds a '\' (S3 keys use '/')`
	case len(trimmed) > 512:
		why = "it is longer than 512 bytes"
	}
	for _, seg := range strings.Split(trimmed, "/") {
		if why != "" {
			break
		}
		switch seg {
		case "":
			why = "it has an empty segment ('//')"
		case ".", "..":
			why = fmt.Sprintf("it has a %q segment (S3 keeps it literally; it does not mean the parent or this folder)", seg)
		}
	}
	if why != "" {
		return fmt.Errorf("%s %q is not a valid key prefix: %s; pass a prefix like www or sites/www", flag, p, why)
	}
	return nil
}
