// Package ecrauth is the engine behind publishing an image to Amazon ECR:
// it logs in (an ECR authorization token becomes registry credentials),
// resolves and validates the repository and tag, and enforces esteira's
// immutable-tag rule by asking the registry what a tag points at before a
// push. It knows nothing about Dagger; ci/ calls it and does the push.
//
// Passwords never appear in errors, and Credentials redacts itself in every
// fmt verb, in slog and in JSON.
package ecrauth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// TokenAPI is the part of the ECR client that Login needs; *ecr.Client satisfies it.
type TokenAPI interface {
	GetAuthorizationToken(ctx context.Context, params *ecr.GetAuthorizationTokenInput, optFns ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

// DescribeReposAPI is the part of the ECR client that ResolveRepository
// needs; *ecr.Client satisfies it.
type DescribeReposAPI interface {
	DescribeRepositories(ctx context.Context, params *ecr.DescribeRepositoriesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
}

var (
	_ TokenAPI         = (*ecr.Client)(nil)
	_ DescribeReposAPI = (*ecr.Client)(nil)
)

// Credentials log in to one registry. Password is a secret: hand it to
// Dagger as a secret and nowhere else.
type Credentials struct {
	Registry  string // host[:port], without scheme, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com
	Username  string // "AWS" for ECR
	Password  string
	ExpiresAt time.Time
	// PlainHTTP is set when the token's proxyEndpoint says http:// (a local
	// or simulated registry); real ECR is always HTTPS.
	PlainHTTP bool
	// Endpoint, when set, is the base URL this process reaches the registry
	// at, e.g. the sandbox's service address for a registry that image
	// references call localhost:4566. Default: scheme://Registry.
	Endpoint string
}

const redacted = "<redacted>"

// String describes the credentials without the password.
func (c Credentials) String() string {
	pw := ""
	if c.Password != "" {
		pw = redacted
	}
	return fmt.Sprintf("Credentials{Registry: %q, Username: %q, Password: %q, ExpiresAt: %s}",
		c.Registry, c.Username, pw, c.ExpiresAt.UTC().Format(time.RFC3339))
}

// GoString is String, so %#v does not print the password either.
func (c Credentials) GoString() string { return c.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, ...).
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	fmt.Fprint(f, c.String())
}

// LogValue keeps the password out of slog output.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("registry", c.Registry), slog.String("username", c.Username),
		slog.String("password", redacted), slog.Time("expiresAt", c.ExpiresAt))
}

// MarshalJSON keeps the password out of JSON output.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Registry  string    `json:"registry"`
		Username  string    `json:"username"`
		Password  string    `json:"password"`
		ExpiresAt time.Time `json:"expiresAt"`
	}{c.Registry, c.Username, redacted, c.ExpiresAt})
}
