package ecsdeploy

import (
	"fmt"
	"regexp"
	"strings"
)

// imageRef is a parsed container image reference: repo[:tag][@sha256:hex].
type imageRef struct {
	Repo, Tag, Digest string
}

var (
	// host[:port]/path components, lower case, as the distribution spec allows.
	repoRe   = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagRe    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRe = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// parseImage accepts "repo@sha256:…", "repo:tag@sha256:…" and "repo:tag".
func parseImage(s string) (imageRef, error) {
	bad := func(why string) (imageRef, error) {
		return imageRef{}, fmt.Errorf("image %q is malformed: %s; give repo@sha256:<64 hex>, repo:tag@sha256:<64 hex> or repo:tag", s, why)
	}
	if s == "" {
		return bad("it is empty")
	}
	var r imageRef
	rest := s
	if i := strings.Index(rest, "@"); i >= 0 {
		r.Digest, rest = rest[i+1:], rest[:i]
		if !digestRe.MatchString(r.Digest) {
			return bad("the digest is not sha256 followed by 64 lower-case hex digits")
		}
	}
	// A colon after the last slash separates the tag (a colon before it is a port).
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		r.Tag, rest = rest[i+1:], rest[:i]
		if !tagRe.MatchString(r.Tag) {
			return bad("the tag has characters other than letters, digits, '_', '.' and '-'")
		}
	}
	r.Repo = rest
	if !repoRe.MatchString(r.Repo) {
		return bad("the repository must be lower-case host[:port]/path")
	}
	if r.Tag == "" && r.Digest == "" {
		return bad("it has neither a tag nor a digest")
	}
	return r, nil
}

// sameImage reports whether running live means want is already deployed: both
// name the same repository and the same digest. Without digests a tag can
// move, so equality cannot be proven and the answer is false.
func sameImage(live, want string) bool {
	l, err1 := parseImage(live)
	w, err2 := parseImage(want)
	if err1 != nil || err2 != nil {
		return false
	}
	return l.Repo == w.Repo && w.Digest != "" && l.Digest == w.Digest
}
