package sitepublish

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// What a build folder may hold, decided here once: regular files and
// folders are published; a symbolic link to a regular file inside the build
// is published as a copy of that file under the link's name (bundlers use
// such links for aliases); anything else is refused by name before anything
// changes: a link that leaves the build (it could publish /etc/passwd or
// /proc/self/environ with the deploy's AWS keys), a link to a folder (loops,
// the same files under two names), FIFOs, sockets and devices (reading one
// hangs the deploy or reads a device).

// maxListed is how many refused entries an error names.
const maxListed = 10

// buildEntry classifies one walked entry that is not a folder. It returns
// the path to read the file's content from, or a reason to refuse it.
func buildEntry(realRoot, p string, d fs.DirEntry) (string, string) {
	switch mode := d.Type(); {
	case mode.IsRegular():
		return p, ""
	case mode&fs.ModeSymlink != 0:
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			return "", fmt.Sprintf("a symbolic link whose target cannot be read (%v)", err)
		}
		if rel, err := filepath.Rel(realRoot, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Sprintf("a symbolic link to %s, outside the build folder", target)
		}
		info, err := os.Stat(target)
		switch {
		case err != nil:
			return "", fmt.Sprintf("a symbolic link whose target cannot be read (%v)", err)
		case info.IsDir():
			return "", "a symbolic link to a folder (copy the folder into the build instead)"
		case !info.Mode().IsRegular():
			return "", "a symbolic link to " + entryKind(info.Mode())
		}
		return target, ""
	default:
		return "", entryKind(mode)
	}
}

func entryKind(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file (" + mode.String() + ")"
}

// refusedError names the entries of the build that cannot be published.
func refusedError(dir string, refused []string) error {
	n := len(refused)
	if n > maxListed {
		refused = append(refused[:maxListed], fmt.Sprintf("... and %d more", n-maxListed))
	}
	return fmt.Errorf("build folder %s holds %d entries that cannot be published, nothing was changed: remove them from the build:\n  %s",
		dir, n, strings.Join(refused, "\n  "))
}

// openRegular opens a file of the build for reading, refusing anything that
// is not (or no longer) a regular file: a file swapped for a link or a FIFO
// after the scan is not followed and does not block.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is %s, not a regular file", path, entryKind(info.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// readRegular is os.ReadFile through openRegular.
func readRegular(path string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
