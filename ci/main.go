// Release a containerized backend to Amazon ECS and a static frontend to
// Amazon S3, the same way from a laptop, Jenkins, CodeBuild or Bitbucket.
//
// Every function that changes something in AWS ends either on the new
// version running healthy or back on the exact version that ran before:
// database migrations run as a one-off task before the service changes, a
// failed rollout is rolled back to the recorded live revision, and a
// frontend release is backed up and verified before anything is replaced.
//
// New here? Run `dagger call demo`: it needs no AWS account.
package main

import (
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
)

// Esteira holds the AWS settings every function shares. Pass them before the
// function name: dagger call --region eu-west-1 ... deploy-backend ...
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
}

// New configures the AWS account, region and release bookkeeping that every
// function uses.
func New(
	// AWS region of the ECR repository, ECS cluster and S3 buckets, for example eu-west-1. Required by every function that talks to AWS (default with --sandbox: the sandbox's region).
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
	// S3 bucket where esteira keeps deploy locks (so two deploys of one service or site never interleave) and a JSON record of every release (used by rollback-backend and rollback-frontend). Without it there is no lock and no record (default with --sandbox: the sandbox's).
	// +optional
	releaseBucket string,
	// Key prefix for locks and records inside --release-bucket.
	// +optional
	// +default="esteira"
	releasePrefix string,
	// Run against an esteira sandbox instead of AWS, e.g. tcp://localhost:4566 after 'dagger call sandbox up --ports 4566:4566'. Region, endpoint, keys and release bucket then default to the sandbox's, and images are pushed to its registry.
	// +optional
	sandbox *dagger.Service,
) *Esteira {
	return &Esteira{
		Region:             region,
		Endpoint:           endpoint,
		S3Endpoint:         storageEndpoint,
		ReleaseBucket:      releaseBucket,
		ReleasePrefix:      releasePrefix,
		Target:             sandbox,
		AwsAccessKeyID:     awsAccessKeyId,
		AwsSecretAccessKey: awsSecretAccessKey,
		AwsSessionToken:    awsSessionToken,
	}
}
