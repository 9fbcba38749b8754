package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/ci/internal/hints"
	"github.com/futuraplataforma/esteira/internal/awsenv"
	"github.com/futuraplataforma/esteira/internal/release"
)

// awsSession is what a verb needs to talk to AWS: the SDK config, the
// options it came from, who the credentials belong to, and the defaults the
// target (AWS or the sandbox) brings, resolved once in (*Esteira).aws.
type awsSession struct {
	cfg  aws.Config
	opts awsenv.Options
	who  string
	// releaseBucket and releasePrefix hold the locks and records ("" = none).
	releaseBucket, releasePrefix string
	// keyValueStore is the KeyValueStore ARN an atomic site uses when none is given.
	keyValueStore string
	// registry is the service images are pushed through (nil: the engine's
	// network), registryEndpoint the address it serves ECR's registry on ("" = ECR's).
	registry         *dagger.Service
	registryEndpoint string
	// webhookHost rewrites a webhook's host (old → new) so the engine reaches it.
	webhookHost [2]string
}

// aws resolves the credentials (the only place a secret's plaintext is read),
// checks them with STS, assumes the role if one is set, and returns the
// session. Nothing here is printed.
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
	s := &awsSession{releaseBucket: m.ReleaseBucket, releasePrefix: m.ReleasePrefix}
	if m.Target != nil {
		if err := useSandbox(ctx, m.Target, &o, s); err != nil {
			return nil, err
		}
	}
	if s.cfg, err = awsenv.Load(ctx, o); err != nil {
		return nil, hints.Flags(err, hints.AWS)
	}
	if s.who, err = awsenv.Identity(ctx, s.cfg); err != nil {
		return nil, hints.Flags(err, hints.AWS)
	}
	if m.Role != "" {
		if s.cfg, s.who, err = awsenv.AssumeRole(ctx, s.cfg, m.Role, m.RoleSession); err != nil {
			return nil, hints.Flags(fmt.Errorf("assume role %s: %w", m.Role, err), hints.AWS)
		}
	}
	s.opts = o
	return s, nil
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

// releases returns the lock and record store, or nil without one.
func (s *awsSession) releases() *release.Store {
	if s.releaseBucket == "" {
		return nil
	}
	return release.NewStore(awsenv.S3Client(s.cfg, s.opts), s.releaseBucket, s.releasePrefix)
}

// progress is where step lines and events go: stderr, which dagger call
// shows live, while the verb's result goes to stdout.
func progress() *os.File { return os.Stderr }
