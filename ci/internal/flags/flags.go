// Package flags parses the module's settings that are more than a word,
// so they are tested without a Dagger session.
package flags

import (
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/release"
)

// ParseReleases reads --releases: s3://BUCKET/PREFIX, or s3://BUCKET with
// the prefix esteira; empty is no release store.
func ParseReleases(v string) (bucket, prefix string, err error) {
	if v == "" {
		return "", "esteira", nil
	}
	rest, ok := strings.CutPrefix(v, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if !ok {
		return "", "", fmt.Errorf("--releases %q: give the bucket and prefix as s3://BUCKET/PREFIX, for example --releases s3://acme-releases/esteira", v)
	}
	if err := release.ValidateBucket(bucket); err != nil {
		return "", "", fmt.Errorf("--releases %q: %w", v, err)
	}
	if prefix == "" {
		prefix = "esteira"
	}
	return bucket, prefix, nil
}
