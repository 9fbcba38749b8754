package ecrauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

var registryIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// ecrHostPattern matches an ECR registry host and captures its account id.
var ecrHostPattern = regexp.MustCompile(`^([0-9]{12})(\.dkr\.ecr\..+)$`)

// Login exchanges the caller's AWS credentials for registry credentials
// with ECR's GetAuthorizationToken. registryID is the 12-digit account that
// owns the registry, or "" for the caller's own account. An ECR token works
// for every registry the caller may access (GetAuthorizationToken's
// registryIds is deprecated), so registryID only picks the registry host.
func Login(ctx context.Context, api TokenAPI, registryID string) (*Credentials, error) {
	if registryID != "" && !registryIDPattern.MatchString(registryID) {
		return nil, fmt.Errorf("registry id %q is not a 12-digit AWS account id: pass the account that owns the repository, or leave it empty for your own", registryID)
	}
	out, err := api.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, fmt.Errorf("get ECR authorization token: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return nil, errors.New("get ECR authorization token: ECR returned no authorization data")
	}
	c, err := credentialsFrom(out.AuthorizationData[0])
	if err != nil {
		return nil, err
	}
	if m := ecrHostPattern.FindStringSubmatch(c.Registry); m != nil && registryID != "" {
		c.Registry = registryID + m[2]
	}
	return c, nil
}

// credentialsFrom decodes one authorization: the token is base64("user:password").
// Errors never quote the token or the password.
func credentialsFrom(data types.AuthorizationData) (*Credentials, error) {
	registry := strings.TrimSuffix(aws.ToString(data.ProxyEndpoint), "/")
	registry, plainHTTP := strings.CutPrefix(registry, "http://")
	registry = strings.TrimPrefix(registry, "https://")
	if registry == "" {
		return nil, errors.New("decode ECR authorization: it names no registry (empty proxyEndpoint)")
	}
	token := aws.ToString(data.AuthorizationToken)
	if token == "" {
		return nil, fmt.Errorf("decode ECR authorization for %s: the token is empty", registry)
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return nil, fmt.Errorf("decode ECR authorization for %s: the token is not base64", registry)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || pass == "" {
		return nil, fmt.Errorf("decode ECR authorization for %s: the token is not of the form user:password", registry)
	}
	c := &Credentials{Registry: registry, Username: user, Password: pass, PlainHTTP: plainHTTP}
	if data.ExpiresAt != nil {
		c.ExpiresAt = *data.ExpiresAt
	}
	return c, nil
}
