package ecsdeploy_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// The shape of the call ci/ makes: SDK clients from one aws.Config, the
// release store in S3, progress to stderr. (Compiled, not run.)
func ExampleDeploy() {
	ctx := context.Background()
	var cfg aws.Config // from awsenv
	c := ecsdeploy.Clients{
		ECS:     ecs.NewFromConfig(cfg),
		Logs:    cloudwatchlogs.NewFromConfig(cfg),
		Secrets: secretsmanager.NewFromConfig(cfg),
	}
	rec, err := ecsdeploy.Deploy(ctx, c, ecsdeploy.DeployOptions{
		Cluster: "prod", Service: "api",
		Image:          "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:…",
		MigrateCommand: []string{"./app", "migrate"},
		Timeout:        15 * time.Minute,
		Releases:       release.NewStore(s3.NewFromConfig(cfg), "acme-releases", ""),
		Who:            "ci: https://ci.example/job/42",
		Out:            os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // what happened, the state AWS is in, what to run next
	}
	if rec != nil {
		fmt.Println(rec.Outcome, rec.Backend.BeforeRevision, rec.Backend.AfterRevision)
	}
}
