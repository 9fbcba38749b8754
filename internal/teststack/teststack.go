// Package teststack starts the real servers that esteira's integration tests
// talk to: versitygw as the S3 API and the distribution registry as an OCI
// registry. Each server starts at most once per test binary, on a free
// 127.0.0.1 port, with its data in a temporary directory.
//
// The binaries are installed into <repo>/.cache/bin by
// scripts/install-test-tools (`make tools`). A package whose tests use the
// stack stops the servers when its test binary exits by calling Main from
// TestMain:
//
//	func TestMain(m *testing.M) { teststack.Main(m) }
//
// Without it the servers are still killed when the test binary dies (Linux
// parent-death signal), but their temporary directories are left behind.
package teststack

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	stopMu sync.Mutex
	stops  []func()
)

// Main runs the package's tests, stops every server this package started and
// exits with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	stopAll()
	os.Exit(code)
}

// onStop registers f to run when Main stops the stack, last registered first.
func onStop(f func()) {
	stopMu.Lock()
	defer stopMu.Unlock()
	stops = append(stops, f)
}

func stopAll() {
	stopMu.Lock()
	defer stopMu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	stops = nil
}

// binDirEnv overrides where the server binaries are looked up.
const binDirEnv = "ESTEIRA_TEST_BIN"

// binary returns the path of a tool installed by scripts/install-test-tools.
func binary(name string) (string, error) {
	dir := os.Getenv(binDirEnv)
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, ".cache", "bin")
	}
	path := filepath.Join(dir, name)
	if info, err := os.Stat(path); err != nil || info.IsDir() {
		return "", fmt.Errorf("%s not found in .cache/bin: run make tools (looked for %s)", name, path)
	}
	return path, nil
}

// repoRoot walks up from the working directory (the package under test) to
// the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago. Another process may take the port before the server binds it: each
// start therefore checks that the server answering is its own (it accepts
// the credentials made for it). Tests replace freeAddr to provoke that race.
var freeAddr = func() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// randomString returns n random bytes hex-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	return hex.EncodeToString(b)
}
