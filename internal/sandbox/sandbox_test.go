package sandbox

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/futuraplataforma/esteira/internal/awssim"
)

func TestRegistryHashMatchesThePasswordTheSimulatorHandsOut(t *testing.T) {
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(registryHash), []byte(registryPassword)))
	assert.Contains(t, Script(), "-registry-password "+registryPassword)
}

// The seed must be accepted by the simulator as it is: a bad seed would
// only show when the sandbox service fails to start inside the engine.
func TestSeedStartsTheSimulatorWithTheSandboxServices(t *testing.T) {
	seed, err := Seed()
	require.NoError(t, err)
	sim := awssim.New(awssim.Options{AccountID: AccountID, Region: Region, AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey})
	require.NoError(t, sim.ECS.ApplySeed([]byte(seed)))

	files, err := Files()
	require.NoError(t, err)
	assert.Equal(t, seed, files["/etc/esteira-sandbox/seed.json"])
	var parsed awssim.Seed
	require.NoError(t, json.Unmarshal([]byte(seed), &parsed))
	require.Len(t, parsed.Services, 6)
	assert.Equal(t, []string{Cluster, ProdCluster}, parsed.Clusters)
	assert.Equal(t, Service, parsed.Services[0].Name)
	assert.Equal(t, Worker, parsed.Services[1].Name)
	assert.Equal(t, BlueGreen, parsed.Services[2].Name)
	assert.Equal(t, "BLUE_GREEN", parsed.Services[2].Strategy, "a service ECS deploys blue/green")
	assert.Equal(t, []string{"POST_TEST_TRAFFIC_SHIFT"}, parsed.Services[2].PauseAt, "held for the gate on test traffic")
	assert.Equal(t, []string{BlueGreenAlarm}, parsed.Services[2].Alarms, "an alarm its deployments watch")
	assert.Contains(t, Script(), "-alarms "+FunctionAlarm+","+BlueGreenAlarm+","+CodeDeployAlarm, "created OK at start")
	assert.Equal(t, CodeDeployed, parsed.Services[5].Name)
	assert.Equal(t, "CODE_DEPLOY", parsed.Services[5].DeploymentController)
	require.Len(t, parsed.DeploymentGroups, 1)
	assert.True(t, parsed.DeploymentGroups[0].WaitForReady, "held in Ready for the gate on test traffic")
	assert.Equal(t, CodeDeployConfig, parsed.DeploymentGroups[0].DeploymentConfigName, "a canary, for the alarm drill")
	assert.Equal(t, []string{CodeDeployAlarm}, parsed.DeploymentGroups[0].Alarms)
}

func TestScriptServesEveryBucketAndTheRegistryOnThePort(t *testing.T) {
	s := Script()
	assert.Contains(t, s, "-addr 0.0.0.0:4566")
	assert.Contains(t, s, "-buckets "+strings.Join(Buckets, ","))
	assert.Contains(t, s, "-registry "+Registry)
	assert.Contains(t, s, "registry serve /etc/esteira-sandbox/registry.yml")
}

// The host copy (the end-to-end suite's) reads and writes only under its
// folder: no path of the container's / is left in it.
func TestScriptInKeepsEveryPathUnderItsFolder(t *testing.T) {
	const root = "/tmp/esteira-sbx"
	files, err := FilesIn(root)
	require.NoError(t, err)
	for path, content := range files {
		assert.True(t, strings.HasPrefix(path, root+"/etc/esteira-sandbox/"), path)
		for _, line := range strings.Split(content, "\n") {
			if key := strings.TrimSpace(line); strings.HasPrefix(key, "rootdirectory:") || strings.HasPrefix(key, "path:") {
				assert.Contains(t, line, root, "%s: %s", path, line)
			}
		}
	}
	for _, field := range strings.Fields(ScriptIn(root)) {
		if strings.HasPrefix(field, "/") {
			assert.True(t, strings.HasPrefix(field, root+"/"), "script path %s", field)
		}
	}
	assert.Equal(t, strings.ReplaceAll(ScriptIn(root), root, ""), Script(), "the same script, moved")
}

func TestKeyValueStoreARN_IsTheOneTheREADMEGives(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), KeyValueStoreARN, "the README names the sandbox's KeyValueStore by its ARN")
	assert.Contains(t, Script(), "-key-value-stores "+KeyValueStore)
}
