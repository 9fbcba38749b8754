package teststack

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Registry is a running distribution registry: plain HTTP on Host
// ("127.0.0.1:port"), storage in a temporary directory, and htpasswd basic
// auth for one user. Username is "AWS", as for ECR; Password looks like an
// ECR token (base64) but is 64 characters, because bcrypt, the only hash the
// registry's htpasswd accepts, reads at most 72 bytes.
type Registry struct {
	Host     string
	Username string
	Password string
}

var (
	registryOnce sync.Once
	registry     *Registry
	registryErr  error
)

// StartRegistry starts the registry the first time it is called in a test
// binary and returns it; later calls return the same registry. It fails the
// test with the reason when the registry cannot start.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	registryOnce.Do(func() { registry, registryErr = startRegistry() })
	if registryErr != nil {
		t.Fatalf("teststack: %v", registryErr)
	}
	return registry
}

func startRegistry() (*Registry, error) {
	bin, err := binary("registry")
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port may be taken between probe and bind
		reg, err := tryStartRegistry(bin)
		if err == nil {
			return reg, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStartRegistry(bin string) (*Registry, error) {
	dir, err := os.MkdirTemp("", "esteira-registry-")
	if err != nil {
		return nil, fmt.Errorf("create registry directory: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	reg := &Registry{Host: addr, Username: "AWS", Password: ecrLikePassword()}
	config, err := writeRegistryConfig(dir, reg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	env := []string{"OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true"}
	p, err := startProcess("registry", bin, []string{"serve", config}, env)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := p.waitHTTP("http://" + addr + "/v2/"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := reg.checkOwnServer(); err != nil {
		p.stop()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("registry: %w\n%s", err, p.output.tail())
	}
	onStop(func() {
		p.stop()
		os.RemoveAll(dir)
	})
	return reg, nil
}

// checkOwnServer makes sure the server on Host is this registry, not another
// process that took the port first: only this registry accepts Password.
func (r *Registry) checkOwnServer() error {
	req, err := http.NewRequest(http.MethodGet, "http://"+r.Host+"/v2/", nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(r.Username, r.Password)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("check the server on %s: %w", r.Host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the server on %s refused this registry's password (HTTP %d): another process holds the port", r.Host, resp.StatusCode)
	}
	return nil
}

// writeRegistryConfig writes the htpasswd file and the registry's YAML
// configuration into dir and returns the configuration's path.
func writeRegistryConfig(dir string, reg *Registry) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(reg.Password), bcrypt.MinCost)
	if err != nil {
		return "", fmt.Errorf("hash registry password: %w", err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(reg.Username+":"+string(hash)+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write htpasswd: %w", err)
	}
	storage := filepath.Join(dir, "storage")
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: %q
auth:
  htpasswd:
    realm: esteira-test
    path: %q
`, storage, reg.Host, htpasswd)
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		return "", fmt.Errorf("write registry config: %w", err)
	}
	return path, nil
}

// ecrLikePassword returns 64 random base64 characters, like the start of an
// ECR authorization token (which may contain '+' and '/').
func ecrLikePassword() string {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	return base64.StdEncoding.EncodeToString(b)
}
