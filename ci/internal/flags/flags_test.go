package flags

import (
	"strings"
	"testing"
)

func TestParseReleases_TakesABucketAndAPrefixAndNamesTheFlag(t *testing.T) {
	for in, want := range map[string][2]string{
		"":                          {"", "esteira"},
		"s3://acme-releases":        {"acme-releases", "esteira"},
		"s3://acme-releases/":       {"acme-releases", "esteira"},
		"s3://acme-releases/ci/app": {"acme-releases", "ci/app"},
	} {
		bucket, prefix, err := ParseReleases(in)
		if err != nil || bucket != want[0] || prefix != want[1] {
			t.Errorf("ParseReleases(%q) = %q, %q, %v; want %q, %q", in, bucket, prefix, err, want[0], want[1])
		}
	}
	for _, bad := range []string{"acme-releases", "s3://", "s3://A_B/x", "https://acme-releases/x"} {
		if _, _, err := ParseReleases(bad); err == nil || !strings.Contains(err.Error(), "--releases") {
			t.Errorf("ParseReleases(%q) = %v; want an error naming --releases", bad, err)
		}
	}
}
