package ecrauth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// ErrRepositoryNotFound is matched (errors.Is) by ResolveRepository's error
// for a repository that does not exist.
var ErrRepositoryNotFound = errors.New("repository not found")

var (
	repositoryPattern = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	// awsRegistryID pulls the account out of AWS's RepositoryNotFoundException message.
	awsRegistryID = regexp.MustCompile(`registry with id '([0-9]+)'`)
)

// ValidateRepositoryName checks a repository name against ECR's rules:
// 2 to 256 characters, lower-case letters and digits in components separated
// by '.', '_' or '-', and path segments separated by '/'.
func ValidateRepositoryName(name string) error {
	hint := ""
	switch {
	case name == "":
		return setting.Of("Repository", errors.New("repository name is empty: name the ECR repository, e.g. backend"))
	case strings.Contains(name, ".amazonaws.com") || strings.Contains(name, ":"):
		hint = ": give the repository's name (e.g. backend), not its URI or a tag"
	case strings.ToLower(name) != name:
		hint = ": ECR repository names are lower case"
	case len(name) < 2 || len(name) > 256:
		hint = ": it must be 2 to 256 characters long"
	case !repositoryPattern.MatchString(name):
		hint = ": use lower-case letters and digits, separated by '.', '_', '-' or '/'"
	default:
		return nil
	}
	return setting.Of("Repository", fmt.Errorf("repository name %q is not a valid ECR repository name%s", name, hint))
}

// ResolveRepository validates name and returns the repository's URI
// (registry host/name), or an error matching ErrRepositoryNotFound that says
// how to create it.
func ResolveRepository(ctx context.Context, api DescribeReposAPI, name string) (string, error) {
	if err := ValidateRepositoryName(name); err != nil {
		return "", err
	}
	var region string
	captureRegion := func(o *ecr.Options) { region = o.Region } // applied to the call's copy of the client options
	out, err := api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}}, captureRegion)
	var notFound *types.RepositoryNotFoundException
	if errors.As(err, &notFound) {
		return "", setting.Of("Repository", &repositoryNotFoundError{name: name, region: region, message: notFound.ErrorMessage(), cause: err})
	}
	if err != nil {
		return "", fmt.Errorf("describe ECR repository %s: %w", name, err)
	}
	for _, r := range out.Repositories {
		if aws.ToString(r.RepositoryName) == name && aws.ToString(r.RepositoryUri) != "" {
			return aws.ToString(r.RepositoryUri), nil
		}
	}
	return "", fmt.Errorf("describe ECR repository %s: ECR answered without that repository's URI", name)
}

type repositoryNotFoundError struct {
	name, region, message string
	cause                 error
}

func (e *repositoryNotFoundError) Error() string {
	registry := "of this account"
	if m := awsRegistryID.FindStringSubmatch(e.message); m != nil {
		registry = m[1]
	}
	where := "registry " + registry
	if e.region != "" {
		where += " (region " + e.region + ")"
	}
	return fmt.Sprintf("repository %q not found in %s: create it (aws ecr create-repository --repository-name %s) or check the repository's name",
		e.name, where, e.name)
}

func (e *repositoryNotFoundError) Unwrap() error { return e.cause }

func (e *repositoryNotFoundError) Is(target error) bool { return target == ErrRepositoryNotFound }
