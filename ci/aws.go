package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
)

// awsSession is what a function needs to talk to AWS: the SDK config, the
// options it came from, and who the credentials belong to.
type awsSession struct {
	cfg  aws.Config
	opts awsenv.Options
	who  string
	// sandbox is the started sandbox service and its endpoint, or nil.
	sandbox  *dagger.Service
	endpoint string
}

// aws resolves the credentials (the only place a secret's plaintext is read),
// checks them with STS, and returns the session. Nothing here is printed.
func (m *Esteira) aws(ctx context.Context) (*awsSession, error) {
	o := awsenv.Options{Region: m.Region, Endpoint: m.Endpoint, S3Endpoint: m.S3Endpoint}
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
	s := &awsSession{}
	if m.Target != nil {
		if s.endpoint, err = startSandbox(ctx, m.Target); err != nil {
			return nil, err
		}
		s.sandbox = m.Target
		if o.Endpoint == "" {
			o.Endpoint = s.endpoint
		}
		if o.Region == "" {
			o.Region = sandbox.Region
		}
		if o.AccessKeyID == "" && o.SecretAccessKey == "" {
			o.AccessKeyID, o.SecretAccessKey = sandbox.AccessKeyID, sandbox.SecretAccessKey
		}
	}
	if s.cfg, err = awsenv.Load(ctx, o); err != nil {
		return nil, err
	}
	if s.who, err = awsenv.Identity(ctx, s.cfg); err != nil {
		return nil, err
	}
	s.opts = o
	return s, nil
}

// startSandbox starts the sandbox service (or the tunnel to one the user
// exposed) and returns the URL this function reaches it at.
func startSandbox(ctx context.Context, svc *dagger.Service) (string, error) {
	if _, err := svc.Start(ctx); err != nil {
		return "", fmt.Errorf("start the sandbox (--sandbox): %s", why(err))
	}
	ep, err := svc.Endpoint(ctx, dagger.ServiceEndpointOpts{Port: sandbox.Port, Scheme: "http"})
	if err != nil {
		return "", fmt.Errorf("find the sandbox's endpoint on port %d (--sandbox must be the service `dagger call sandbox` returns, or tcp://localhost:%d after `sandbox up`): %s",
			sandbox.Port, sandbox.Port, why(err))
	}
	return ep, nil
}

func plaintext(ctx context.Context, s *dagger.Secret, flag string) (string, error) {
	if s == nil {
		return "", nil
	}
	v, err := s.Plaintext(ctx)
	if err != nil {
		return "", fmt.Errorf("read secret %s: %s", flag, why(err))
	}
	return v, nil
}

// releases returns the lock and record store, or nil without --release-bucket
// (the sandbox has one of its own).
func (m *Esteira) releases(s *awsSession) *release.Store {
	bucket := m.ReleaseBucket
	if bucket == "" && s.sandbox != nil {
		bucket = sandbox.ReleaseBucket
	}
	if bucket == "" {
		return nil
	}
	return release.NewStore(awsenv.S3Client(s.cfg, s.opts), bucket, m.ReleasePrefix)
}

// progress is where step lines and events go: stderr, which dagger call
// shows live, while the function's result goes to stdout.
func progress() *os.File { return os.Stderr }
