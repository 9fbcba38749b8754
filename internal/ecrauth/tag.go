package ecrauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/futuraplataforma/esteira/internal/setting"
)

// ErrTagExists is matched (errors.Is) by CheckOverwrite's refusal.
var ErrTagExists = errors.New("tag already points at another image")

const maxTagLength = 128

var (
	tagPattern  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	notTagChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// ValidateTag checks a tag against the OCI grammar
// [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
func ValidateTag(tag string) error {
	switch {
	case tag == "":
		return setting.Of("Tag", errors.New("tag is empty: name one, or leave it unset to tag with <version>-<commit>"))
	case len(tag) > maxTagLength:
		return setting.Of("Tag", fmt.Errorf("tag %q is %d characters long: tags have at most %d", tag, len(tag), maxTagLength))
	case !tagPattern.MatchString(tag):
		return setting.Of("Tag", fmt.Errorf("tag %q is not a valid image tag: use letters, digits, '_', '.' and '-', not starting with '.' or '-'", tag))
	}
	return nil
}

// CheckOverwrite applies the immutable-tag rule before a push: it allows the
// push when the tag does not exist yet (existingDigest ""), already points
// at newDigest (the push changes nothing), or allowOverwrite is set.
func CheckOverwrite(repositoryURI, tag, existingDigest, newDigest string, allowOverwrite bool) error {
	if existingDigest == "" || existingDigest == newDigest || allowOverwrite {
		return nil
	}
	return setting.Of("Tag", setting.Of("AllowOverwrite", fmt.Errorf("tag %s:%s already points at %s (this build is %s); tags are immutable: publish under a new tag, or allow moving it: %w",
		repositoryName(repositoryURI), tag, existingDigest, newDigest, ErrTagExists)))
}

// repositoryName returns the path of a repository URI, without its registry host.
func repositoryName(uri string) string {
	if _, path, ok := strings.Cut(uri, "/"); ok {
		return path
	}
	return uri
}

// DefaultTag returns "<version>-<sha>", or "<sha>" without a version, made to
// fit the tag grammar: characters outside it become '-', a leading '.' or
// '-' is dropped and the result is cut to 128 characters (keeping the sha).
// It returns "" when both are empty.
func DefaultTag(shortSHA, version string) string {
	sha := sanitizeTag(shortSHA)
	v := sanitizeTag(version)
	switch {
	case v == "":
		return truncate(sha, maxTagLength)
	case sha == "":
		return truncate(v, maxTagLength)
	}
	room := maxTagLength - len(sha) - 1
	if room <= 0 {
		return truncate(sha, maxTagLength)
	}
	return strings.TrimRight(truncate(v, room), ".-") + "-" + sha
}

func sanitizeTag(s string) string {
	s = notTagChars.ReplaceAllString(strings.TrimSpace(s), "-")
	return strings.Trim(s, ".-")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// VersionFromSource returns the version declared in dir: the first line of
// a VERSION file, else package.json's "version", else "".
func VersionFromSource(dir string) string {
	if b, err := os.ReadFile(filepath.Join(dir, "VERSION")); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if v := strings.TrimSpace(line); v != "" {
			return v
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return ""
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &pkg) != nil {
		return ""
	}
	return strings.TrimSpace(pkg.Version)
}
