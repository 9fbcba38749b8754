package ecsdeploy

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/secrets"
)

// checkSecrets verifies, through internal/secrets, that every Secrets
// Manager secret and SSM parameter the new revision's containers reference
// exists (the target container's and the unchanged ones': a task needs
// them all to start). Values are never read. api nil skips the check.
func checkSecrets(ctx context.Context, api secrets.DescribeAPI, params secrets.ParametersAPI, containers []types.ContainerDefinition) (string, error) {
	var refs []secrets.Reference
	for _, cd := range containers {
		for _, s := range cd.Secrets {
			refs = append(refs, secrets.Reference{Container: aws.ToString(cd.Name), Name: aws.ToString(s.Name), ValueFrom: aws.ToString(s.ValueFrom)})
		}
	}
	if len(refs) == 0 {
		return "no secrets referenced", nil
	}
	if api == nil {
		return fmt.Sprintf("%d secrets referenced, not checked (no Secrets Manager client)", len(refs)), nil
	}
	report, err := secrets.Verify(ctx, api, params, refs)
	if err != nil {
		return "", err
	}
	return report.Summary(), nil
}
