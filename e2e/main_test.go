//go:build e2e

// Package e2e calls every function of the Dagger module with the real
// dagger CLI against the sandbox, and checks what they return and what is
// then in S3, ECR and ECS. `make e2e` runs it; it needs a Dagger engine and
// the CLI in $DAGGER (default: dagger on PATH).
//
// TestMain starts `dagger call sandbox up --ports 4566:4566` for the whole
// run; each test passes --sandbox tcp://localhost:4566 and inspects the
// sandbox on 127.0.0.1:4566. Tests do not depend on each other's state:
// each uses its own tags, prefixes or checks the state before it acts.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/futuraplataforma/esteira/internal/sandbox"
)

const endpoint = "http://127.0.0.1:4566"

var root, daggerCLI string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, _ := os.Getwd()
	root = filepath.Dir(wd)
	daggerCLI = os.Getenv("DAGGER")
	if daggerCLI == "" {
		daggerCLI = "dagger"
	}
	up := exec.Command(daggerCLI, "--progress", "plain", "call", "sandbox", "up", "--ports", "4566:4566")
	up.Dir = root
	log, err := os.Create(filepath.Join(os.TempDir(), "esteira-e2e-sandbox.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer log.Close()
	up.Stdout, up.Stderr = log, log
	up.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := up.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start the sandbox with %s: %v\n", daggerCLI, err)
		return 1
	}
	defer func() {
		_ = syscall.Kill(-up.Process.Pid, syscall.SIGTERM)
		_ = up.Wait()
	}()
	started := time.Now()
	if err := waitForSandbox(up, 20*time.Minute); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v (its log: %s)\n", err, log.Name())
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: sandbox up in %s\n", time.Since(started).Round(time.Second))
	return m.Run()
}

func waitForSandbox(up *exec.Cmd, limit time.Duration) error {
	exited := make(chan struct{})
	go func() { _, _ = up.Process.Wait(); close(exited) }()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("dagger call sandbox up exited before the sandbox answered")
		case <-time.After(time.Second):
		}
		resp, err := http.Get(endpoint + sandbox.RulesPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("the sandbox did not answer on %s within %s", endpoint, limit)
}

// result is what one dagger call printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s\n--- stderr (tail)\n%s", r.code, r.stdout, tail(r.stderr, 40))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// dagger runs `dagger call <args>` from the project root.
func dagger(t *testing.T, args ...string) result {
	t.Helper()
	return cli(t, append([]string{"call"}, args...)...)
}

// cli runs the dagger CLI from the project root.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, daggerCLI, append([]string{"--progress", "plain"}, args...)...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", daggerCLI, err)
	}
	return r
}

// inSandbox is dagger call --sandbox tcp://localhost:4566 <args>.
func inSandbox(t *testing.T, args ...string) result {
	t.Helper()
	return dagger(t, append([]string{"--sandbox", "tcp://localhost:4566"}, args...)...)
}

func ok(t *testing.T, r result) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("dagger call failed:\n%s", r)
	}
	return r.stdout
}

func fails(t *testing.T, r result, wantInError ...string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("dagger call succeeded; it should have failed:\n%s", r)
	}
	for _, w := range wantInError {
		if !strings.Contains(r.stderr, w) {
			t.Fatalf("the error does not say %q:\n%s", w, r)
		}
	}
}

func s3Client() *s3.Client {
	return s3.New(s3.Options{Region: sandbox.Region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
}

func ecrClient() *ecr.Client {
	return ecr.New(ecr.Options{Region: sandbox.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
}

// registryDigest is the digest repository:tag points at, asked through ECR
// DescribeImages (which the sandbox answers from its real registry).
func registryDigest(t *testing.T, repository, tag string) string {
	t.Helper()
	out, err := ecrClient().DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String(repository),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}}})
	if err != nil {
		t.Fatalf("describe image %s:%s: %v", repository, tag, err)
	}
	if len(out.ImageDetails) != 1 {
		t.Fatalf("describe image %s:%s: %d images", repository, tag, len(out.ImageDetails))
	}
	return aws.ToString(out.ImageDetails[0].ImageDigest)
}

func ecsClient() *ecs.Client {
	return ecs.New(ecs.Options{Region: sandbox.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
}

// unique names a tag or prefix for one test run.
func unique(what string) string {
	return fmt.Sprintf("%s-%d", what, time.Now().UnixNano()%1e9)
}

// copyDir copies a folder of the project into a temporary one, to change it.
func copyDir(t *testing.T, rel string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join(root, rel)
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, p)
		if info.IsDir() {
			if info.Name() == "node_modules" || info.Name() == "dist" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, r), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, r), data, info.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
