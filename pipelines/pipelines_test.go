// Package pipelines_test checks that every `dagger call` in the shipped CI
// pipeline files (Jenkinsfile, CodeBuild buildspec, Bitbucket Pipelines)
// names functions and flags that really exist in the Dagger module in ci/.
// The module's API is read from ci/*.go with go/parser, so the check needs
// no Dagger engine and fails the moment a function or flag is renamed.
package pipelines_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkPipelineFile extracts every dagger call from a pipeline file (a
// Jenkinsfile or YAML, by name) and checks each. It returns the calls it
// found and one error per bad call.
func checkPipelineFile(api *moduleAPI, file string) ([]invocation, []error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, []error{fmt.Errorf("read pipeline: %w", err)}
	}
	var invs []invocation
	switch ext := filepath.Ext(file); ext {
	case ".yml", ".yaml":
		invs, err = yamlInvocations(file, src)
	default:
		invs, err = jenkinsInvocations(file, src)
	}
	if err != nil {
		return nil, []error{err}
	}
	var errs []error
	for _, inv := range invs {
		if err := api.check(inv); err != nil {
			errs = append(errs, err)
		}
	}
	return invs, errs
}

func TestPipelines_CallOnlyFunctionsAndFlagsThatExistInCI(t *testing.T) {
	api, err := loadModuleAPI("../ci", "Esteira")
	require.NoError(t, err, "read the Dagger module's API from ci/")

	for _, file := range []string{"Jenkinsfile", "buildspec.yml", "bitbucket-pipelines.yml"} {
		t.Run(file, func(t *testing.T) {
			invs, errs := checkPipelineFile(api, file)
			require.NoError(t, errors.Join(errs...), "%s calls functions or flags that ci/ does not have", file)
			called := map[string]bool{}
			for _, inv := range invs {
				called[functionName(api, inv)] = true
			}
			for _, fn := range []string{"test", "release", "promote"} {
				assert.True(t, called[fn], "%s never calls %s (found: %v): the extractor or the file is broken", file, fn, called)
			}
		})
	}
}

// functionName is the first function an invocation calls on the main object.
func functionName(api *moduleAPI, inv invocation) string {
	i, err := consumeFlags(inv.args, 0, api.constructor, "", "")
	if err != nil || i >= len(inv.args) {
		return ""
	}
	return inv.args[i]
}

// An argument named like one of the dagger CLI's own flags (output, mod,
// json, ...) makes the CLI refuse the call before it starts, "flag already
// exists: output": seen under the real v0.21.8 CLI for function arguments
// as for the constructor's.
func TestCI_ArgumentsDoNotClashWithDaggerCLIFlags(t *testing.T) {
	api, err := loadModuleAPI("../ci", "Esteira")
	require.NoError(t, err)
	check := func(where string, flags map[string]flagSpec) {
		for flag := range flags {
			_, clash := daggerGlobalFlags["--"+flag]
			assert.False(t, clash, "%s's argument --%s clashes with the dagger CLI's own --%s: rename it", where, flag, flag)
		}
	}
	check("New", api.constructor)
	for name, fn := range api.object(api.root) {
		check(name, fn.flags)
	}
	assert.Contains(t, api.constructor, "region", "the constructor should be read from ci/main.go")
	assert.Contains(t, api.object(api.root)["build-frontend"].flags, "build-dir", "the functions should be read from ci/")
}

// The constructor's settings are private: dagger functions must list
// functions only, not region or endpoint.
func TestCI_SettingsAreNotFunctions(t *testing.T) {
	api, err := loadModuleAPI("../ci", "Esteira")
	require.NoError(t, err)
	for _, setting := range []string{"region", "endpoint", "release-bucket", "release-prefix", "target"} {
		assert.NotContains(t, api.object(api.root), setting)
	}
	assert.Contains(t, api.object(api.root), "deploy-backend")
}
