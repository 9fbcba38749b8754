package hints

import (
	"fmt"
	"strings"
)

// siteSetting is how a user sets one of sitepublish's settings: a flag,
// and for the settings an environment gives, its key in esteira.yaml.
type siteSetting struct{ flag, key string }

// siteSettings maps sitepublish's settings (the Setting() of its
// *SettingError, named after the options' fields) to the command line and
// the environment file. A setting with no key is a verb's flag either way.
var siteSettings = map[string]siteSetting{
	"Bucket":               {"--bucket", "bucket"},
	"Prefix":               {"--prefix", "prefix"},
	"BackupBucket":         {"--backup-bucket", "backupBucket"},
	"DistributionID":       {"--distribution-id", "distributionId"},
	"Atomic":               {"--atomic", "atomic"},
	"Atomic.KeyValueStore": {"--key-value-store", "keyValueStore"},
	"Atomic.PointerKey":    {"--pointer-key", "pointerKey"},
	"Keep":                 {"--keep", ""},
	"MaxDelete":            {"--max-delete", ""},
	"Concurrency":          {"--concurrency", ""},
	"Precompress":          {"--precompress", ""},
	"CacheControl":         {"--cache-control", ""},
	"Dir":                  {"--dist", ""},
	"Backup":               {"--backup", ""},
}

// SiteSettings adds to err the flags (or, for an environment's site, the
// esteira.yaml keys) that set what err says to fix. via is how the user
// reached the site, as for Site.
func SiteSettings(err error, via string) error {
	var flags, keys []string
	for _, s := range settings(err) {
		m, ok := siteSettings[s]
		switch {
		case !ok:
		case m.key != "" && strings.HasPrefix(via, "env "):
			keys = append(keys, m.key)
		default:
			flags = append(flags, m.flag)
		}
	}
	var where []string
	if len(flags) > 0 {
		where = append(where, strings.Join(flags, " or "))
	}
	if len(keys) > 0 {
		where = append(where, "the frontend's "+strings.Join(keys, " or ")+" in esteira.yaml")
	}
	if len(where) == 0 {
		return err
	}
	return fmt.Errorf("%w\nto change it: %s", err, strings.Join(where, ", or "))
}

// settings lists, in order and once each, the settings err (and the
// errors it wraps or joins) says to fix.
func settings(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if s, ok := err.(interface{ Setting() string }); ok && !seen[s.Setting()] {
			seen[s.Setting()] = true
			out = append(out, s.Setting())
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
