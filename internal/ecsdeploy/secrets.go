package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretsAPI is the part of *secretsmanager.Client used to check that the
// secrets a container references exist before anything changes.
type SecretsAPI interface {
	DescribeSecret(ctx context.Context, params *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

// checkSecrets verifies every Secrets Manager valueFrom of the container
// exists. Parameter Store references are not checked. api nil skips.
//
// SEAM: internal/secrets.Check(ctx, api, valueFroms) is meant to replace the
// loop below once it lands; the collection of valueFroms stays here.
func checkSecrets(ctx context.Context, api SecretsAPI, cd *types.ContainerDefinition) error {
	if api == nil || cd == nil {
		return nil
	}
	var errs []error
	for _, s := range cd.Secrets {
		from := aws.ToString(s.ValueFrom)
		id, ok := secretID(from)
		if !ok {
			continue
		}
		if _, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)}); err != nil {
			errs = append(errs, fmt.Errorf("secret %s (env %s of container %s): %w", id, aws.ToString(s.Name), aws.ToString(cd.Name), err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("check secrets before deploying (nothing was changed): %w", errors.Join(errs...))
	}
	return nil
}

// secretID trims the json-key:version-stage:version-id suffix ECS allows
// after a Secrets Manager secret ARN.
func secretID(valueFrom string) (string, bool) {
	parts := strings.Split(valueFrom, ":")
	if len(parts) < 7 || parts[2] != "secretsmanager" || parts[5] != "secret" {
		return "", false
	}
	return strings.Join(parts[:7], ":"), true
}
