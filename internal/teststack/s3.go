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

// S3Server is a running versitygw gateway with its posix backend in a
// temporary directory. Its root credentials are random for each test binary.
type S3Server struct {
	Endpoint        string // "http://127.0.0.1:port"
	Region          string
	AccessKeyID     string
	SecretAccessKey string
}

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
	bin, err := binary("versitygw")
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port may be taken between probe and bind
		srv, err := tryStartS3(bin)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStartS3(bin string) (*S3Server, error) {
	dir, err := os.MkdirTemp("", "esteira-versitygw-")
	if err != nil {
		return nil, fmt.Errorf("create versitygw data directory: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv := &S3Server{
		Endpoint:        "http://" + addr,
		Region:          "eu-west-1",
		AccessKeyID:     "ESTEIRA" + strings.ToUpper(randomString(6)),
		SecretAccessKey: randomString(20),
	}
	// Credentials go through the environment, not argv, so ps does not show them.
	env := []string{"ROOT_ACCESS_KEY_ID=" + srv.AccessKeyID, "ROOT_SECRET_ACCESS_KEY=" + srv.SecretAccessKey}
	args := []string{"--port", addr, "--region", srv.Region, "--quiet", "posix", dir}
	p, err := startProcess("versitygw", bin, args, env)
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
		return nil, fmt.Errorf("versitygw: %w\n%s", err, p.output.tail())
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
		return fmt.Errorf("the server on %s refused this versitygw's root credentials: another process holds the port: %w", s.Endpoint, err)
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
