//go:build e2e

package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// `dagger call sandbox up` serves the whole sandbox on the port it is given:
// STS, ECS with the seeded services, S3 with its buckets and the registry,
// one set of keys. On 4567, beside the suite's own sandbox on 4566.
func TestSandboxUp_ServesEveryAPIOnOnePort(t *testing.T) {
	const base = "http://127.0.0.1:4567"
	up := exec.Command(daggerCLI, "--progress", "plain", "call", "sandbox", "up", "--ports", "4567:4566")
	up.Dir = root
	log, err := os.Create(filepath.Join(t.TempDir(), "sandbox-up.log"))
	require.NoError(t, err)
	up.Stdout, up.Stderr = log, log
	up.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, up.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-up.Process.Pid, syscall.SIGTERM)
		_ = up.Wait()
	})
	// The demo already built the sandbox's image; alone, the first build takes minutes.
	if err := waitForSandbox(up, base, 20*time.Minute); err != nil {
		out, _ := os.ReadFile(log.Name())
		t.Fatalf("%v:\n%s", err, tail(string(out), 40))
	}

	creds := credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")
	who, err := sts.New(sts.Options{Region: sandbox.Region, BaseEndpoint: aws.String(base), Credentials: creds}).
		GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, sandbox.AccountID, aws.ToString(who.Account))

	svcs, err := ecs.New(ecs.Options{Region: sandbox.Region, BaseEndpoint: aws.String(base), Credentials: creds}).
		DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String(sandbox.Cluster), Services: []string{sandbox.Service, sandbox.Worker}})
	require.NoError(t, err)
	require.Len(t, svcs.Services, 2)
	assert.Equal(t, sandbox.Service+":1", lastPart(aws.ToString(svcs.Services[0].TaskDefinition)), "a fresh sandbox runs the seeded revision")

	buckets, err := s3.New(s3.Options{Region: sandbox.Region, BaseEndpoint: aws.String(base), UsePathStyle: true, Credentials: creds}).
		ListBuckets(t.Context(), &s3.ListBucketsInput{})
	require.NoError(t, err)
	var names []string
	for _, b := range buckets.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	assert.ElementsMatch(t, sandbox.Buckets, names)

	resp, err := http.Get(base + "/v2/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the registry answers, and asks for the ECR token")
}
