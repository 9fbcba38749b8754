// Release a containerized backend to Amazon ECS, a static site to Amazon S3
// and Lambda functions, the same way from a laptop, Jenkins, CodeBuild or
// Bitbucket.
//
// Every verb that changes something in AWS ends either on the new version
// running healthy or back on the exact version that ran before, and has a
// --dry-run that changes nothing. The surface is nouns with verbs: backend,
// site, function and env return objects whose deploy, rollback and status
// share the settings given once.
//
// New here? Run `dagger call demo`: it needs no AWS account.
package main

import (
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/ci/internal/flags"
)

// Esteira holds the AWS settings every object shares. Pass them before the
// object: dagger call --region eu-west-1 --releases s3://acme-releases backend ...
type Esteira struct {
	// +private
	Region string
	// +private
	Endpoint string
	// +private
	S3Endpoint string
	// +private
	ReleaseBucket string
	// +private
	ReleasePrefix string
	// +private
	Target *dagger.Service
	// +private
	AwsAccessKeyID *dagger.Secret
	// +private
	AwsSecretAccessKey *dagger.Secret
	// +private
	AwsSessionToken *dagger.Secret
	// Role is an IAM role assumed after signing in (an environment's role).
	// +private
	Role string
	// RoleSession names the assumed role's session.
	// +private
	RoleSession string
}

// New configures the AWS account, region and release bookkeeping every object uses.
func New(
	// AWS region of the ECR repositories, ECS clusters, S3 buckets and Lambda functions, for example eu-west-1 (default with --sandbox: the sandbox's region).
	// +optional
	region string,
	// Send every AWS API call to this URL instead of AWS (the AWS_ENDPOINT_URL convention), for example http://10.0.0.5:4566 for LocalStack. Leave empty for AWS.
	// +optional
	endpoint string,
	// Send S3 calls to this URL instead (the AWS_ENDPOINT_URL_S3 convention), when S3 lives elsewhere than --endpoint.
	// +optional
	storageEndpoint string,
	// AWS access key id, for example env:AWS_ACCESS_KEY_ID. Leave out all three credential flags to use the SDK's default chain (instance or task role).
	// +optional
	awsAccessKeyId *dagger.Secret,
	// AWS secret access key, for example env:AWS_SECRET_ACCESS_KEY.
	// +optional
	awsSecretAccessKey *dagger.Secret,
	// AWS session token for temporary credentials (assumed roles, SSO, CodeBuild), for example env:AWS_SESSION_TOKEN.
	// +optional
	awsSessionToken *dagger.Secret,
	// Where esteira keeps deploy locks (so two releases of one service, site or function never interleave) and a JSON record of every release (what rollback goes back to), as s3://BUCKET/PREFIX or s3://BUCKET (prefix esteira). Without it there is no lock and no record (default with --sandbox: the sandbox's).
	// +optional
	releases string,
	// Run against an esteira sandbox instead of AWS, e.g. tcp://localhost:4566 after 'dagger call sandbox up --ports 4566:4566'. Region, endpoint, keys, releases and the KeyValueStore then default to the sandbox's, and images are pushed to its registry.
	// +optional
	sandbox *dagger.Service,
) (*Esteira, error) {
	bucket, prefix, err := flags.ParseReleases(releases)
	if err != nil {
		return nil, err
	}
	return &Esteira{
		Region:             region,
		Endpoint:           endpoint,
		S3Endpoint:         storageEndpoint,
		ReleaseBucket:      bucket,
		ReleasePrefix:      prefix,
		Target:             sandbox,
		AwsAccessKeyID:     awsAccessKeyId,
		AwsSecretAccessKey: awsSecretAccessKey,
		AwsSessionToken:    awsSessionToken,
	}, nil
}
