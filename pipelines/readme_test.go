package pipelines_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarkdownInvocations_ReadsShellBlocksOnly(t *testing.T) {
	src := "# Title\n" + // 1
		"Run `dagger call inline-is-prose` first.\n" + // 2
		"```sh\n" + // 3
		"dagger call build --source .\n" + // 4
		"```\n" + // 5
		"```yaml\n" + // 6
		"script: dagger call in-yaml\n" + // 7
		"```\n" + // 8
		"```\n" + // 9
		"dagger call in-plain-output\n" + // 10
		"```\n" + // 11
		"1. a step:\n" + // 12
		"   ```bash\n" + // 13
		"   # dagger call commented-out\n" + // 14
		"   dagger call \\\n" + // 15
		"     --region eu-west-1 \\\n" + // 16
		"     deploy-backend --cluster c   # a trailing comment\n" + // 17
		"   ```\n" + // 18
		"````shell\n" + // 19
		"```\n" + // 20: a shorter fence does not close a longer one
		"dagger call region\n" + // 21
		"````\n" // 22
	invs, err := markdownInvocations("README.md", []byte(src))
	require.NoError(t, err)
	require.Len(t, invs, 3)
	assert.Equal(t, "README.md:4", invs[0].where)
	assert.Equal(t, []string{"build", "--source", "."}, invs[0].args)
	assert.Equal(t, "README.md:15", invs[1].where)
	assert.Equal(t, []string{"--region", "eu-west-1", "deploy-backend", "--cluster", "c"}, invs[1].args)
	assert.Equal(t, "README.md:21", invs[2].where)
}

func TestMarkdownInvocations_ExpandsTheDocumentsOwnVariables(t *testing.T) {
	src := "```sh\n" +
		"dagger call $AWS deploy-backend --cluster c --image \"$REF\"\n" +
		"```\n" +
		"Later, the definition:\n" +
		"```sh\n" +
		"AWS=\"--region eu-west-1 --aws-access-key-id env:AWS_ACCESS_KEY_ID\"\n" +
		"export OTHER='--region x'\n" +
		"dagger call ${OTHER} region\n" +
		"REF=$(dagger call $AWS region)\n" +
		"dagger call deploy-backend --image $REF\n" +
		"```\n"
	invs, err := markdownInvocations("README.md", []byte(src))
	require.NoError(t, err)
	require.Len(t, invs, 4)
	assert.Equal(t, []string{"--region", "eu-west-1", "--aws-access-key-id", "env:AWS_ACCESS_KEY_ID",
		"deploy-backend", "--cluster", "c", "--image", "$REF"}, invs[0].args,
		"$AWS is the document's; $REF is not and stays as written")
	assert.Equal(t, []string{"--region", "x", "region"}, invs[1].args)
	assert.Equal(t, []string{"--region", "eu-west-1", "--aws-access-key-id", "env:AWS_ACCESS_KEY_ID", "region"}, invs[2].args,
		"the call inside $(...) is found too")
	assert.Equal(t, []string{"deploy-backend", "--image", "$REF"}, invs[3].args,
		"a variable set from a command's output is not known: it stays a value")
}

func TestMarkdownInvocations_FailsOnUnclosedBlock(t *testing.T) {
	_, err := markdownInvocations("README.md", []byte("text\n```sh\ndagger call build\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "README.md:2: code block opened with ``` is never closed")
}

func TestCheckPipelineFile_FailsOnABadReadme(t *testing.T) {
	api := loadFixture(t)
	invs, errs := checkPipelineFile(api, "testdata/bad/README.md")
	assert.Len(t, invs, 4)
	err := errors.Join(errs...)
	require.Len(t, errs, 3, "only the good call passes: %v", err)
	assert.Contains(t, err.Error(), `testdata/bad/README.md:7: dagger call $UNDEFINED: unknown function "$UNDEFINED"`,
		"a variable the README never assigns is not taken for flags")
	assert.Contains(t, err.Error(), `testdata/bad/README.md:8: dagger call ...: unknown function "..."`,
		"a placeholder is not a call")
	assert.Contains(t, err.Error(), `testdata/bad/README.md:13: dagger call deploy-backend: unknown flag --clustr`)
}
