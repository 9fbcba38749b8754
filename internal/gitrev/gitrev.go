// Package gitrev reads the commit a source tree is checked out at straight
// from its .git folder, so esteira can tag images with the git short sha
// without a git binary (the folder may come from a Dagger directory).
package gitrev

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
)

// ErrNoRepository means the tree has no .git folder.
var ErrNoRepository = errors.New("no .git folder in the source")

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// Head returns the full commit id HEAD points at in the repository whose
// .git folder is the root of gitDir. It follows one level of symbolic ref
// (ref: refs/heads/main), loose refs and packed-refs; a detached HEAD, as
// Jenkins and CodeBuild check out, is read directly.
func Head(gitDir fs.FS) (string, error) {
	head, err := fs.ReadFile(gitDir, "HEAD")
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNoRepository
	}
	if err != nil {
		return "", fmt.Errorf("read .git/HEAD: %w", err)
	}
	line := strings.TrimSpace(string(head))
	ref, symbolic := strings.CutPrefix(line, "ref: ")
	if !symbolic {
		if !shaPattern.MatchString(line) {
			return "", fmt.Errorf("read .git/HEAD: %q is neither a commit id nor a ref", line)
		}
		return line, nil
	}
	if loose, err := fs.ReadFile(gitDir, ref); err == nil {
		sha := strings.TrimSpace(string(loose))
		if shaPattern.MatchString(sha) {
			return sha, nil
		}
		return "", fmt.Errorf("read .git/%s: %q is not a commit id", ref, sha)
	}
	packed, err := fs.ReadFile(gitDir, "packed-refs")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read .git/packed-refs: %w", err)
	}
	for _, l := range strings.Split(string(packed), "\n") {
		sha, name, ok := strings.Cut(strings.TrimSpace(l), " ")
		if ok && name == ref && shaPattern.MatchString(sha) {
			return sha, nil
		}
	}
	return "", fmt.Errorf("HEAD points at %s, which has no commit yet", ref)
}

// Short abbreviates a commit id to 12 characters, the length git uses for
// large repositories and long enough to stay unique.
func Short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
