package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/release"
)

// awsSession is what a function needs to talk to AWS: the SDK config, the
// options it came from, and who the credentials belong to.
type awsSession struct {
	cfg  aws.Config
	opts awsenv.Options
	who  string
}

// aws resolves the credentials (the only place a secret's plaintext is read),
// checks them with STS, and returns the session. Nothing here is printed.
func (m *Esteira) aws(ctx context.Context) (*awsSession, error) {
	o := awsenv.Options{Region: m.Region, Endpoint: m.Endpoint}
	var err error
	if o.AccessKeyID, err = plaintext(ctx, m.AwsAccessKeyID, "--aws-access-key-id"); err != nil {
		return nil, err
	}
	if o.SecretAccessKey, err = plaintext(ctx, m.AwsSecretAccessKey, "--aws-secret-access-key"); err != nil {
		return nil, err
	}
	if o.SessionToken, err = plaintext(ctx, m.AwsSessionToken, "--aws-session-token"); err != nil {
		return nil, err
	}
	cfg, err := awsenv.Load(ctx, o)
	if err != nil {
		return nil, err
	}
	who, err := awsenv.Identity(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &awsSession{cfg: cfg, opts: o, who: who}, nil
}

func plaintext(ctx context.Context, s *dagger.Secret, flag string) (string, error) {
	if s == nil {
		return "", nil
	}
	v, err := s.Plaintext(ctx)
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", flag, err)
	}
	return v, nil
}

// releases returns the lock and record store, or nil without --release-bucket.
func (m *Esteira) releases(s *awsSession) *release.Store {
	if m.ReleaseBucket == "" {
		return nil
	}
	return release.NewStore(awsenv.S3Client(s.cfg, s.opts), m.ReleaseBucket, m.ReleasePrefix)
}

// progress is where step lines and events go: stderr, which dagger call
// shows live, while the function's result goes to stdout.
func progress() *os.File { return os.Stderr }
