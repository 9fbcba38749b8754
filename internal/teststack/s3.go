package teststack

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Server is a running S3 server with its data in a temporary directory:
// versitygw (posix backend) by default, MinIO when ESTEIRA_TEST_S3=minio
// (make test runs the S3 suites against both: they differ in places, e.g.
// MinIO ignores If-Match on DeleteObject). Its root credentials are random
// for each test binary.
type S3Server struct {
	Endpoint        string // "http://127.0.0.1:port"
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// Kind is "versitygw" or "minio".
	Kind string
}

// s3KindEnv picks the S3 server the suites run against.
const s3KindEnv = "ESTEIRA_TEST_S3"

var (
	s3Once   sync.Once
	s3Server *S3Server
	s3Err    error
	buckets  atomic.Int64
)

// S3 starts versitygw the first time it is called in a test binary and
// returns it; later calls return the same server. It fails the test with the
// reason when the server cannot start.
func S3(t testing.TB) *S3Server {
	t.Helper()
	s3Once.Do(func() { s3Server, s3Err = startS3() })
	if s3Err != nil {
		t.Fatalf("teststack: %v", s3Err)
	}
	return s3Server
}

func startS3() (*S3Server, error) {
	kind := os.Getenv(s3KindEnv)
	if kind == "" {
		kind = "versitygw"
	}
	start := map[string]func(string) (*S3Server, error){"versitygw": tryStartS3, "minio": tryStartMinIO}[kind]
	if start == nil {
		return nil, fmt.Errorf("%s=%q: use versitygw or minio", s3KindEnv, kind)
	}
	bin, err := binary(kind)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port may be taken between probe and bind
		srv, err := start(bin)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// newS3 makes a data directory and picks a free port for a server of kind,
// with random root credentials.
func newS3(kind string) (*S3Server, string, error) {
	dir, err := os.MkdirTemp("", "esteira-"+kind+"-")
	if err != nil {
		return nil, "", fmt.Errorf("create %s data directory: %w", kind, err)
	}
	addr, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	return &S3Server{
		Endpoint:        "http://" + addr,
		Region:          "eu-west-1",
		AccessKeyID:     "ESTEIRA" + strings.ToUpper(randomString(6)),
		SecretAccessKey: randomString(20),
		Kind:            kind,
	}, dir, nil
}

func tryStartS3(bin string) (*S3Server, error) {
	srv, dir, err := newS3("versitygw")
	if err != nil {
		return nil, err
	}
	// Credentials go through the environment, not argv, so ps does not show them.
	env := []string{"ROOT_ACCESS_KEY_ID=" + srv.AccessKeyID, "ROOT_SECRET_ACCESS_KEY=" + srv.SecretAccessKey}
	args := []string{"--port", strings.TrimPrefix(srv.Endpoint, "http://"), "--region", srv.Region, "--quiet", "posix", dir}
	return runS3(srv, dir, "versitygw", bin, args, env)
}

// tryStartMinIO runs a single-drive MinIO server on a free loopback port.
func tryStartMinIO(bin string) (*S3Server, error) {
	srv, dir, err := newS3("minio")
	if err != nil {
		return nil, err
	}
	console, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	env := []string{"MINIO_ROOT_USER=" + srv.AccessKeyID, "MINIO_ROOT_PASSWORD=" + srv.SecretAccessKey,
		"MINIO_SITE_REGION=" + srv.Region, "MINIO_BROWSER=off", "MINIO_UPDATE=off", "HOME=" + dir}
	args := []string{"server", "--quiet", "--address", strings.TrimPrefix(srv.Endpoint, "http://"), "--console-address", console, dir + "/data"}
	return runS3(srv, dir, "minio", bin, args, env)
}

// runS3 starts the server process and checks it is this server.
func runS3(srv *S3Server, dir, name, bin string, args, env []string) (*S3Server, error) {
	p, err := startProcess(name, bin, args, env)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := p.waitHTTP(srv.Endpoint); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := srv.checkOwnServer(); err != nil {
		p.stop()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s: %w\n%s", name, err, p.output.tail())
	}
	onStop(func() {
		p.stop()
		os.RemoveAll(dir)
	})
	return srv, nil
}

// checkOwnServer makes sure the server on Endpoint is this versitygw, not
// another process that took the port first: only it accepts these root
// credentials.
func (s *S3Server) checkOwnServer() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.client().ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		return fmt.Errorf("the server on %s refused this %s's root credentials: another process holds the port: %w", s.Endpoint, s.Kind, err)
	}
	return nil
}

// Client returns an S3 client for the server: path-style addressing, the
// server's endpoint and region, and its root credentials.
func (s *S3Server) Client(t testing.TB) *s3.Client {
	t.Helper()
	return s.client()
}

func (s *S3Server) client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
	})
}

// NewBucket creates a bucket with a name unique to this test binary and
// returns its name. The bucket is not deleted: the whole data directory goes
// when the server stops.
func (s *S3Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("esteira-test-%d-%s", buckets.Add(1), randomString(4))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client(t).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("teststack: create bucket %s: %v", name, err)
	}
	return name
}
