package pipelines_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests prove the checker against testdata/fixturemod, a small module
// that does not depend on ci/, so the checker is trusted before ci/ lands.

func loadFixture(t *testing.T) *moduleAPI {
	t.Helper()
	api, err := loadModuleAPI("testdata/fixturemod", "Fixture")
	require.NoError(t, err)
	return api
}

func TestCliName_FollowsDaggerKebabRules(t *testing.T) {
	tests := map[string]string{
		"DeployBackend":    "deploy-backend",
		"awsAccessKeyId":   "aws-access-key-id",
		"AwsAccessKeyID":   "aws-access-key-id",
		"migrateCommand":   "migrate-command",
		"distributionID":   "distribution-id",
		"dryRun":           "dry-run",
		"S3Bucket":         "s-3-bucket",
		"UploadS3Bucket":   "upload-s-3-bucket",
		"URLPath":          "urlpath",
		"region":           "region",
		"failureThreshold": "failure-threshold",
	}
	for goName, want := range tests {
		assert.Equal(t, want, cliName(goName), "cliName(%q)", goName)
	}
}

func TestLoadModuleAPI_ReadsFunctionsFlagsAndConstructor(t *testing.T) {
	api := loadFixture(t)

	assert.Equal(t, "aws-access-key-id, region, release-prefix", names(api.constructor))
	fns := api.objects["Fixture"]
	assert.Equal(t, "build, build-frontend, deploy-backend, region, sandbox, upload-s-3-bucket, with-tag", names(fns),
		"exported methods and non-private fields only; dagger.gen.go and unexported helpers left out")
	assert.Equal(t, "cluster, dry-run, failure-threshold, migrate-command, service", names(fns["deploy-backend"].flags),
		"ctx is not a flag; grouped parameters (cluster, service string) are both flags")
	assert.True(t, fns["deploy-backend"].flags["dry-run"].isBool)
	assert.True(t, fns["build"].flags["source"].required, "a parameter without +optional or +default is required")
	assert.False(t, fns["build"].flags["dockerfile"].required, "+optional")
	assert.False(t, fns["deploy-backend"].flags["failure-threshold"].required, "+default")
	assert.False(t, fns["deploy-backend"].flags["service"].required, "a grouped parameter shares the group's pragmas")
	assert.True(t, api.constructor["aws-access-key-id"].isSecret)
	assert.False(t, api.constructor["region"].isSecret)
	assert.False(t, fns["deploy-backend"].flags["cluster"].isBool)
	assert.Equal(t, "Container", fns["build"].result)
	assert.Equal(t, "Directory", fns["build-frontend"].result)
	assert.Equal(t, "Fixture", fns["with-tag"].result)
	assert.Equal(t, "", fns["deploy-backend"].result)
}

func TestLoadModuleAPI_FailsWhenTheMainObjectIsMissing(t *testing.T) {
	_, err := loadModuleAPI("testdata/fixturemod", "Esteira")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no exported methods or fields on Esteira")
}

func TestCheck_AcceptsValidInvocations(t *testing.T) {
	api := loadFixture(t)
	scripts := map[string]string{
		"constructor flags then function": `dagger call --region eu-west-1 --aws-access-key-id env:AWS_ACCESS_KEY_ID deploy-backend --cluster c --service s`,
		"flag=value and bool flags":       `dagger call --region=eu-west-1 deploy-backend --cluster=c --service s --dry-run --migrate-command ./app,migrate --failure-threshold 3`,
		"bool flag with explicit value":   `dagger call deploy-backend --dry-run=true --cluster c`,
		"line continuations and quotes":   "dagger call \\\n  --region \"eu-west-1\" \\\n  deploy-backend \\\n  --cluster 'prod cluster' --service s",
		"chained core call on Container":  `dagger call build --source . export --path ./image.tar`,
		"chained core call on Directory":  `dagger call build-frontend --source examples/frontend export --path dist`,
		"two core calls":                  `dagger call build --source . directory --path /app entries`,
		"service up":                      `dagger call sandbox up --ports 4566:4566`,
		"chained module object":           `dagger call with-tag --tag v1 deploy-backend --cluster c`,
		"field as function":               `dagger call --region eu-west-1 region`,
		"dagger CLI flags":                `dagger -m github.com/x/y --progress plain call -o dist build-frontend --source . --json`,
		"redirections and pipes":          `dagger call deploy-backend --cluster c 2>&1 > out.txt | tee log`,
		"secret from env":                 `dagger call --aws-access-key-id env:AWS_ACCESS_KEY_ID deploy-backend`,
		"secret from env URI":             `dagger call --aws-access-key-id=env://AWS_ACCESS_KEY_ID deploy-backend`,
		"secret from file or command":     `dagger call --aws-access-key-id file:/run/key build --source . && dagger call --aws-access-key-id "cmd:pass show key" deploy-backend`,
	}
	for name, script := range scripts {
		t.Run(name, func(t *testing.T) {
			invs, err := shellInvocations("script", 1, script)
			require.NoError(t, err)
			require.NotEmpty(t, invs)
			for _, inv := range invs {
				assert.NoError(t, api.check(inv))
			}
		})
	}
}

func TestCheck_RejectsInvalidInvocationsWithUsefulMessage(t *testing.T) {
	api := loadFixture(t)
	tests := []struct {
		name, script string
		want         []string
	}{
		{"unknown function", `dagger call --region r deploy-backendd --cluster c`,
			[]string{`script:1: dagger call deploy-backendd: unknown function "deploy-backendd" on Fixture`, "deploy-backend"}},
		{"unknown flag", `dagger call deploy-backend --clustr c`,
			[]string{`unknown flag --clustr for "deploy-backend"`, "--cluster"}},
		{"constructor flag after the function", `dagger call deploy-backend --region eu-west-1`,
			[]string{`unknown flag --region for "deploy-backend"`}},
		{"function flag before the function", `dagger call --cluster c deploy-backend`,
			[]string{"unknown flag --cluster for the constructor"}},
		{"camelCase flag", `dagger call deploy-backend --dryRun`,
			[]string{"unknown flag --dryRun"}},
		{"chain after a string", `dagger call deploy-backend --cluster c stdout`,
			[]string{"returns a scalar", `"stdout" cannot follow it`}},
		{"unknown core call", `dagger call build --source . exprt --path x`,
			[]string{`unknown function "exprt" on Container`, "export"}},
		{"unknown core flag", `dagger call build --source . export --pth x`,
			[]string{`unknown flag --pth for "export"`}},
		{"unknown service flag", `dagger call sandbox up --port 4566:4566`,
			[]string{`unknown flag --port for "up"`, "--ports"}},
		{"missing value", `dagger call deploy-backend --cluster`,
			[]string{"flag --cluster of \"deploy-backend\" needs a value"}},
		{"no function", `dagger call --region r`,
			[]string{"names no function"}},
		{"private field", `dagger call token`,
			[]string{`unknown function "token"`}},
		{"core call without its required flag", `dagger call build --source . export`,
			[]string{`"export" needs --path`}},
		{"required flag missing", `dagger call build --dockerfile Dockerfile export --path x`,
			[]string{`script:1: dagger call build: "build" needs --source, which the call does not pass`}},
		{"secret given as its value", `dagger call --aws-access-key-id "$AWS_ACCESS_KEY_ID" deploy-backend`,
			[]string{"flag --aws-access-key-id of the constructor (flags before the function name) is a secret: pass env:NAME", `not "$AWS_ACCESS_KEY_ID"`}},
		{"secret env source expanded by the shell", `dagger call --aws-access-key-id=env:$AWS_ACCESS_KEY_ID deploy-backend`,
			[]string{"is a secret", "not $NAME"}},
		{"secret without a source", `dagger call --aws-access-key-id AKIAEXAMPLE deploy-backend`,
			[]string{"is a secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			invs, err := shellInvocations("script", 1, tt.script)
			require.NoError(t, err)
			require.Len(t, invs, 1)
			err = api.check(invs[0])
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestShellInvocations_FindsEveryCallAndItsLine(t *testing.T) {
	script := "set -eu\n" +
		"# dagger call commented-out --nope\n" +
		"dagger version\n" +
		"echo 'dagger call in a string' && /usr/local/bin/dagger call \\\n  build --source .\n" +
		"out=$(dagger call deploy-backend --cluster c); echo \"$out\"\n"
	invs, err := shellInvocations("f", 10, script)
	require.NoError(t, err)
	require.Len(t, invs, 2)
	assert.Equal(t, "f:13", invs[0].where)
	assert.Equal(t, []string{"build", "--source", "."}, invs[0].args)
	assert.Equal(t, "f:15", invs[1].where)
	assert.Equal(t, []string{"deploy-backend", "--cluster", "c"}, invs[1].args)
}

func TestShellInvocations_RejectsUnknownDaggerCLIFlag(t *testing.T) {
	_, err := shellInvocations("f", 1, "dagger --bogus call build")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown dagger CLI flag --bogus")
}

func TestJenkinsInvocations_ReadsEveryShStepForm(t *testing.T) {
	src := "pipeline {\n" + // 1
		"  // sh 'dagger call commented-out'\n" + // 2
		"  sh 'dagger call --region eu-west-1 build --source .'\n" + // 3
		"  sh \"dagger call --region ${env.AWS_REGION} deploy-backend --cluster \\\"${CLUSTER}\\\"\"\n" + // 4
		"  sh '''\n" + // 5
		"    dagger call \\\\\n" + // 6
		"      --region eu-west-1 \\\\\n" + // 7
		"      plan-frontend --bucket b\n" + // 8
		"  '''\n" + // 9
		"  sh(script: \"dagger call region\", returnStdout: true)\n" + // 10
		"  sh \"\"\"dagger call \\\n      build --source .\"\"\"\n" + // 11: Groovy's own \-newline continuation
		"}\n"
	invs, err := jenkinsInvocations("Jenkinsfile", []byte(src))
	require.NoError(t, err)
	require.Len(t, invs, 5)
	assert.Equal(t, "Jenkinsfile:3", invs[0].where)
	assert.Equal(t, []string{"--region", "${env.AWS_REGION}", "deploy-backend", "--cluster", "${CLUSTER}"}, invs[1].args)
	assert.Equal(t, "Jenkinsfile:6", invs[2].where)
	assert.Equal(t, []string{"--region", "eu-west-1", "plan-frontend", "--bucket", "b"}, invs[2].args)
	assert.Equal(t, []string{"region"}, invs[3].args)
	assert.Equal(t, "Jenkinsfile:11", invs[4].where)
	assert.Equal(t, []string{"build", "--source", "."}, invs[4].args)
}

func TestJenkinsInvocations_FailsOnUnclosedString(t *testing.T) {
	_, err := jenkinsInvocations("Jenkinsfile", []byte("sh '''dagger call build\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "never closed")
}

func TestYAMLInvocations_ReadsListItemsAndBlockScalars(t *testing.T) {
	src := "phases:\n" + // 1
		"  build:\n" + // 2
		"    commands:\n" + // 3
		"      - dagger call --region eu-west-1 build --source .\n" + // 4
		"      - |\n" + // 5
		"        echo deploying\n" + // 6
		"        dagger call \\\n" + // 7
		"          deploy-backend --cluster c\n" // 8
	invs, err := yamlInvocations("buildspec.yml", []byte(src))
	require.NoError(t, err)
	require.Len(t, invs, 2)
	assert.Equal(t, "buildspec.yml:4", invs[0].where)
	assert.Equal(t, "buildspec.yml:7", invs[1].where)
	assert.Equal(t, []string{"deploy-backend", "--cluster", "c"}, invs[1].args)
}

func TestCheckPipelineFile_FailsOnABadPipeline(t *testing.T) {
	api := loadFixture(t)
	invs, errs := checkPipelineFile(api, "testdata/bad/Jenkinsfile")
	assert.Len(t, invs, 2)
	require.Len(t, errs, 1, "the good deploy-backend line passes, the misspelt one fails")
	assert.Contains(t, errs[0].Error(), `testdata/bad/Jenkinsfile:7: dagger call deploy-backendd: unknown function "deploy-backendd"`)
}
