package sitepublish

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
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
	// Atomic, when set, makes this an atomic site (see AtomicOptions);
	// nil releases in place, over the live site, with a backup first.
	// Keep then counts releases.
	Atomic *AtomicOptions
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
	if err := checkSite(o.Bucket, o.Prefix, o.Releases); err != nil {
		return o, err
	}
	if err := validatePrefix("BackupPrefix", "backup prefix", o.BackupPrefix); err != nil {
		return o, err
	}
	if err := checkDir(o.Dir); err != nil {
		return o, err
	}
	if o.Atomic != nil {
		a, err := o.Atomic.withDefaults(newLocation(o.Bucket, o.Prefix), o.DistributionID)
		if err != nil {
			return o, err
		}
		o.Atomic, needBackup = &a, false
	}
	if needBackup {
		if o.BackupBucket == "" {
			return o, setting.Of("BackupBucket", errors.New("the site has no backup bucket: name the bucket the live site is copied to before it changes"))
		}
		root := newLocation(o.BackupBucket, defaultBackupPrefix(o.Bucket, o.Prefix, o.BackupBucket, o.BackupPrefix))
		if err := checkApart(newLocation(o.Bucket, o.Prefix), root); err != nil {
			return o, err
		}
	}
	if err := o.checkNumbers(); err != nil {
		return o, err
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

// checkNumbers checks the encodings and the numbers of o.
func (o Options) checkNumbers() error {
	for _, enc := range o.Precompress {
		switch enc {
		case "gzip":
		case "br":
			return setting.Of("Precompress", fmt.Errorf("precompress %q is not supported: Go's standard library has no Brotli encoder; use gzip", enc))
		default:
			return setting.Of("Precompress", fmt.Errorf("precompress %q is unknown: the supported value is gzip", enc))
		}
	}
	switch {
	case o.Keep < 0:
		return setting.Of("Keep", fmt.Errorf("keep %d is negative: choose how many backups to keep, or 0 to keep every one", o.Keep))
	case o.PartSize != 0 && o.PartSize < defaultPartSize:
		return fmt.Errorf("part size %d is below S3's minimum of %d bytes: choose a larger part size or 0 for the default", o.PartSize, defaultPartSize)
	case o.Concurrency < 0:
		return setting.Of("Concurrency", fmt.Errorf("concurrency %d is negative: choose how many parallel S3 requests, or 0 for the default", o.Concurrency))
	case o.MaxDelete < -1:
		return setting.Of("MaxDelete", fmt.Errorf("max delete %d is negative: choose 0 or more, or -1 for no limit", o.MaxDelete))
	case o.InvalidationLimit < 0:
		return fmt.Errorf("invalidation limit %d is negative: choose 0 for the default of %d", o.InvalidationLimit, defaultInvalidationLimit)
	}
	return nil
}

// checkSite checks the site's bucket and prefix and that the release
// store lies outside it.
func checkSite(bucket, prefix string, store *release.Store) error {
	if bucket == "" {
		return setting.Of("Bucket", errors.New("the site has no bucket: name the S3 bucket that serves the site"))
	}
	if err := validatePrefix("Prefix", "the site's prefix", prefix); err != nil {
		return err
	}
	return checkStoreApart(bucket, prefix, store)
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
		return setting.Of("Dir", errors.New("there is no build folder: name the folder holding the built site"))
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return setting.Of("Dir", fmt.Errorf("build folder %s: %w: check the folder the build writes, or the folder given as the built site", dir, err))
	}
	if !fi.IsDir() {
		return setting.Of("Dir", fmt.Errorf("build folder %s is a file, not a folder: name the folder holding the built site", dir))
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
		return setting.Of("BackupBucket", fmt.Errorf("backup location %s is inside the site %s: it would back up into itself; choose another backup bucket or backup prefix", backupRoot, site))
	}
	if backupRoot.contains(site) {
		return setting.Of("BackupBucket", fmt.Errorf("site %s is inside the backup location %s: choose another backup bucket or backup prefix", site, backupRoot))
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
		return setting.Of("Releases", fmt.Errorf("the release store s3://%s/%s is inside the site %s: "+
			"a release would delete its own lock and the records rollbacks need; keep the release store (its bucket or prefix) outside the site",
			bucket, records.Prefix, site))
	}
	return nil
}

// validatePrefix checks a key prefix up front, so a bad one fails with a
// clear error before anything changes instead of midway (a//b, ./www and
// ../www name keys that S3 or a restore treat differently from what the
// user meant). Any other UTF-8 is a valid S3 key: "my site", "sitio/ção",
// "www~1". One leading or trailing '/' is tolerated and dropped.
// field is the setting that holds it, what how the message names it.
func validatePrefix(field, what, p string) error {
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
		return setting.Of(field, fmt.Errorf("%s %q is not a valid key prefix: %s; choose a prefix like www or sites/www", what, p, why))
	}
	return nil
}
