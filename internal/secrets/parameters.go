package secrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

// ParametersAPI is the part of *ssm.Client the check uses.
type ParametersAPI interface {
	GetParameters(ctx context.Context, params *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

var _ ParametersAPI = (*ssm.Client)(nil)

// maxNames is how many names one GetParameters call takes.
const maxNames = 10

// findParameters asks Parameter Store for each name (a name, name:version
// or ARN, as ECS takes them), ten at a time, without decryption: a
// SecureString's value comes back encrypted and is dropped with the rest.
// It returns why each name that a task could not use cannot be, by name.
func findParameters(ctx context.Context, api ParametersAPI, names []string) (map[string]string, error) {
	missing := map[string]string{}
	for start := 0; start < len(names); start += maxNames {
		batch := names[start:min(start+maxNames, len(names))]
		out, err := api.GetParameters(ctx, &ssm.GetParametersInput{Names: batch})
		var apiErr smithy.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException":
			for _, n := range batch {
				missing[n] = "not allowed to read it: grant ssm:GetParameters on it to the deploying role"
			}
			continue
		case err != nil:
			return nil, fmt.Errorf("check parameters: %w", err)
		}
		for _, n := range out.InvalidParameters {
			missing[n] = "Parameter Store has no such parameter (or version) in this account and region"
		}
	}
	return missing, nil
}
