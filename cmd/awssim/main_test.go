package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start runs the command with args and returns its endpoint URL.
func start(t *testing.T, args ...string) string {
	t.Helper()
	url, rest := startWithOutput(t, args...)
	go func() {
		for range rest {
		}
	}()
	return url
}

// startWithOutput is start that also returns the lines printed after the
// endpoint; the caller must read them all (the command waits on its output).
func startWithOutput(t *testing.T, args ...string) (string, <-chan string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, pw); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("awssim did not stop within 10s")
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("awssim exited before printing its endpoint: %v", <-done)
		}
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 3, "first line: %q", line)
		return f[2], lines
	case <-time.After(10 * time.Second):
		t.Fatal("awssim printed no endpoint within 10s")
	}
	return "", nil
}

func TestRun_ServesTheSeededServiceAndTicksOnTheWallClock(t *testing.T) {
	url := start(t, "-addr", "127.0.0.1:0", "-seed", "demo-seed.json", "-tick", "5ms")
	o := awssim.DefaultOptions()
	client := ecs.New(ecs.Options{Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	out, err := client.DescribeServices(t.Context(), &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"backend"}})
	require.NoError(t, err)
	require.Len(t, out.Services, 1)
	assert.Equal(t, int32(2), out.Services[0].RunningCount)

	run, err := client.RunTask(t.Context(), &ecs.RunTaskInput{Cluster: aws.String("demo"), TaskDefinition: aws.String("backend"),
		NetworkConfiguration: out.Services[0].NetworkConfiguration})
	require.NoError(t, err)
	arn := aws.ToString(run.Tasks[0].TaskArn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// ListTasks does not advance time: only the ticker can stop the task.
		list, err := client.ListTasks(t.Context(), &ecs.ListTasksInput{Cluster: aws.String("demo"), DesiredStatus: "STOPPED"})
		require.NoError(t, err)
		if len(list.TaskArns) == 1 && list.TaskArns[0] == arn {
			return
		}
		require.True(t, time.Now().Before(deadline), "the -tick clock never stopped the one-off task")
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRun_RejectsABadSeedBeforeListening(t *testing.T) {
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-seed", "missing.json"}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-seed")
	err = run(t.Context(), []string{"-account", "42"}, io.Discard)
	assert.ErrorContains(t, err, "-account")
}

func TestRun_PointsECRAtTheGivenRegistry(t *testing.T) {
	url := start(t, "-addr", "127.0.0.1:0", "-registry", "127.0.0.1:5000", "-registry-password", "demo-token", "-repositories", "backend,frontend")
	o := awssim.DefaultOptions()
	client := ecr.New(ecr.Options{Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
	tok, err := client.GetAuthorizationToken(t.Context(), &ecr.GetAuthorizationTokenInput{})
	require.NoError(t, err)
	require.Len(t, tok.AuthorizationData, 1)
	assert.Equal(t, "http://127.0.0.1:5000", aws.ToString(tok.AuthorizationData[0].ProxyEndpoint))
	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte("AWS:demo-token")), aws.ToString(tok.AuthorizationData[0].AuthorizationToken))
	repos, err := client.DescribeRepositories(t.Context(), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"backend"}})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:5000/backend", aws.ToString(repos.Repositories[0].RepositoryUri))
}

func TestRun_RefusesARegistryWithoutItsPassword(t *testing.T) {
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-registry", "127.0.0.1:5000"}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-registry-password")
}
