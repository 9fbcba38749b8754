//go:build e2e

// Package e2e calls every function of the Dagger module with the real
// dagger CLI against the sandbox, and checks what they return and what is
// then in S3, ECR and ECS. `make e2e` runs it; it needs a Dagger engine and
// the CLI in $DAGGER (default: dagger on PATH).
//
// TestMain runs the sandbox on the host for the whole run: the same script
// and files the sandbox service runs in the engine (internal/sandbox), with
// the binaries `make e2e` puts in .cache/bin, on 127.0.0.1:4566. Each test
// passes --sandbox tcp://localhost:4566, as a user does after `dagger call
// sandbox up`, and inspects the sandbox there. Not through `sandbox up`
// itself: Dagger's port forward carries every connection on one gRPC stream
// and writes to them in turn, so one reader that stops (we suspect a partly
// read image blob) stalls them all; two runs hung 12 minutes that way.
// TestSandboxUp proves `sandbox up` on a port of its own.
// Tests do not depend on each other's state: each uses its own tags,
// prefixes or checks the state before it acts.
package e2e

import (
	"bytes"
	"context"
	"fmt"
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
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
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
	log, err := os.Create(filepath.Join(os.TempDir(), "esteira-e2e-sandbox.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer log.Close()
	stop, err := startSandbox(log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v (its log: %s)\n", err, log.Name())
		return 1
	}
	defer stop()
	return m.Run()
}

// startSandbox runs internal/sandbox's script on the host, its files in a
// temporary folder, with .cache/bin first on PATH, and waits until it answers.
func startSandbox(log *os.File) (stop func(), err error) {
	dir, err := os.MkdirTemp("", "esteira-e2e-sandbox-")
	if err != nil {
		return nil, err
	}
	files, err := sandbox.FilesIn(dir)
	if err != nil {
		return nil, err
	}
	files[dir+"/run.sh"] = sandbox.ScriptIn(dir)
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	bin := filepath.Join(root, ".cache", "bin")
	for _, name := range []string{"awssim", "versitygw", "registry"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("%s is not in %s: run the suite with make e2e, which installs it", name, bin)
		}
	}
	cmd := exec.Command("sh", dir+"/run.sh")
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the sandbox: %w", err)
	}
	stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	}
	if err := waitForSandbox(cmd, endpoint, time.Minute); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// waitForSandbox polls the sandbox's rules endpoint until it answers.
func waitForSandbox(cmd *exec.Cmd, base string, limit time.Duration) error {
	exited := make(chan struct{})
	go func() { _, _ = cmd.Process.Wait(); close(exited) }()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited before the sandbox answered", strings.Join(cmd.Args, " "))
		case <-time.After(time.Second):
		}
		if control.Ready(context.Background(), base) == nil {
			return nil
		}
	}
	return fmt.Errorf("the sandbox did not answer on %s within %s", base, limit)
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
	out, err := ecrClient().DescribeImages(t.Context(), describeTag(repository, tag))
	if err != nil {
		t.Fatalf("describe image %s:%s: %v", repository, tag, err)
	}
	if len(out.ImageDetails) != 1 {
		t.Fatalf("describe image %s:%s: %d images", repository, tag, len(out.ImageDetails))
	}
	return aws.ToString(out.ImageDetails[0].ImageDigest)
}

func describeTag(repository, tag string) *ecr.DescribeImagesInput {
	return &ecr.DescribeImagesInput{RepositoryName: aws.String(repository), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}}}
}

// built is the site folder build-frontend makes of src, exported to the
// host: what a user passes to site deploy --dist.
func built(t *testing.T, src string) string {
	t.Helper()
	dist := filepath.Join(t.TempDir(), "dist")
	ok(t, dagger(t, "build-frontend", "--source", src, "export", "--path", dist))
	return dist
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
