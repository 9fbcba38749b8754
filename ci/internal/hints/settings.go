package hints

import (
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/setting"
)

// siteSetting is how a user sets one of sitepublish's settings: a flag,
// and for the settings an environment gives, its key in esteira.yaml.
type siteSetting struct{ flag, key string }

// siteSettings maps sitepublish's settings (setting.Names of its errors,
// named after the options' fields) to the command line and
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
	"Releases":             {"--releases (the module's)", ""},
}

// SiteSettings adds to err the flags (or, for an environment's site, the
// esteira.yaml keys) that set what err says to fix. via is how the user
// reached the site, as for Site.
func SiteSettings(err error, via string) error {
	var flags, keys []string
	for _, s := range setting.Names(err) {
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
