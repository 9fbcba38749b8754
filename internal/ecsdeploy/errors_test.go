package ecsdeploy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// The engine's errors speak of the service, the container, the revision;
// the setting to fix is data (ecsdeploy.Settings) that a caller renders as
// its own flag.
func TestErrors_NameTheSettingToFixNotACommandLineFlag(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{}, func(in *ecs.RegisterTaskDefinitionInput) {
		in.ContainerDefinitions[1].Essential = aws.Bool(true)
	})
	deploy := func(change func(*ecsdeploy.DeployOptions)) func(context.Context) error {
		return func(ctx context.Context) error {
			o := e.opts(imgV2)
			o.Container = "app"
			change(&o)
			_, err := ecsdeploy.Deploy(ctx, e.clients, o)
			return err
		}
	}
	rollback := func(to string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := ecsdeploy.Rollback(ctx, e.clients, ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", ToRevision: to, Out: e.out})
			return err
		}
	}
	tests := []struct {
		name    string
		run     func(context.Context) error
		setting []string
		want    string
	}{
		{"EmptyCluster", deploy(func(o *ecsdeploy.DeployOptions) { o.Cluster = "" }), []string{"Cluster"}, "cluster is empty: name the ECS cluster"},
		{"EmptyClusterAndBadImage", deploy(func(o *ecsdeploy.DeployOptions) { o.Cluster, o.Image = "", "x" }), []string{"Cluster", "Image"}, "cluster is empty"},
		{"UnknownCluster", deploy(func(o *ecsdeploy.DeployOptions) { o.Cluster = "nope" }), []string{"Cluster"}, `cluster "nope" not found (or not ACTIVE) in this account and region`},
		{"UnknownService", deploy(func(o *ecsdeploy.DeployOptions) { o.Service = "nope" }), []string{"Service"}, `service "nope" not found (or not ACTIVE) in cluster "main"`},
		{"UnknownContainer", deploy(func(o *ecsdeploy.DeployOptions) { o.Container = "web" }), []string{"Container"},
			`container "web" is not in task definition api:1 (containers: app, sidecar): name one of them`},
		{"TwoEssentialContainers", deploy(func(o *ecsdeploy.DeployOptions) { o.Container = "" }), []string{"Container"},
			"task definition api:1 has 2 essential containers (app, sidecar): name the one whose image changes"},
		{"UnknownRevision", rollback("api:99"), []string{"ToRevision"}, "api:99"},
		{"NoTarget", rollback(""), []string{"ToRevision"}, "name the revision to go back to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(t.Context())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "--", "no command-line flag in an engine error")
			assert.Equal(t, tt.setting, setting.Names(err))
			var s *setting.Error
			require.True(t, errors.As(err, &s), "a caller finds the setting with errors.As")
			assert.Equal(t, tt.setting[0], s.Name)
		})
	}
}
