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
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkPipelineFile extracts every dagger call from a pipeline file (a
// Jenkinsfile, YAML or Markdown, by name) and checks each. It returns the calls it
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
	case ".md":
		invs, err = markdownInvocations(file, src)
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

// shippedFiles are the files whose dagger calls users copy: the pipelines
// and the README's shell blocks.
var shippedFiles = []string{"Jenkinsfile", "buildspec.yml", "bitbucket-pipelines.yml", "../README.md"}

func TestPipelines_CallOnlyFunctionsAndFlagsThatExistInCI(t *testing.T) {
	api, err := loadModuleAPI("../ci", "Esteira")
	require.NoError(t, err, "read the Dagger module's API from ci/")

	for _, file := range shippedFiles {
		t.Run(file, func(t *testing.T) {
			invs, errs := checkPipelineFile(api, file)
			require.NoError(t, errors.Join(errs...), "%s calls functions or flags that ci/ does not have", file)
			called := map[string]bool{}
			for _, inv := range invs {
				for _, fn := range calledFunctions(api, inv) {
					called[fn] = true
				}
			}
			for _, fn := range []string{"Esteira.test", "Environment.release", "Environment.promote"} {
				assert.True(t, called[fn], "%s never calls %s (found: %v): the extractor or the file is broken", file, fn, called)
			}
		})
	}
}

// The README's reference has a real call of every verb of every object.
func TestReadme_CallsEveryFunctionOfTheModule(t *testing.T) {
	api, err := loadModuleAPI("../ci", "Esteira")
	require.NoError(t, err)
	invs, errs := checkPipelineFile(api, "../README.md")
	require.NoError(t, errors.Join(errs...))
	called := map[string]bool{}
	for _, inv := range invs {
		for _, fn := range calledFunctions(api, inv) {
			called[fn] = true
		}
	}
	var missing []string
	for object, fns := range api.objects {
		for name, fn := range fns {
			if !fn.field && !called[object+"."+name] {
				missing = append(missing, object+"."+name)
			}
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "README.md has no dagger call of these functions: add one to their object's section")
}

// calledFunctions lists the module's functions an invocation calls, in
// order, as Object.function (Esteira.env, Environment.release); core calls
// (export, sync) are left out. The invocation must have passed check.
func calledFunctions(api *moduleAPI, inv invocation) []string {
	i, err := consumeFlags(inv.args, 0, api.constructor, "", "")
	if err != nil {
		return nil
	}
	var out []string
	for object := api.root; i < len(inv.args); {
		fns, ok := api.objects[object]
		if !ok {
			break
		}
		name := inv.args[i]
		fn, ok := fns[name]
		if !ok {
			break
		}
		out = append(out, object+"."+name)
		if i, err = consumeFlags(inv.args, i+1, fn.flags, "", ""); err != nil {
			break
		}
		object = fn.result
	}
	return out
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
	for object, fns := range api.objects {
		for name, fn := range fns {
			check(object+"."+name, fn.flags)
		}
	}
	assert.Contains(t, api.constructor, "region", "the constructor should be read from ci/main.go")
	assert.Contains(t, api.object(api.root)["build-frontend"].flags, "build-dir", "the functions should be read from ci/")
}

// cliHiddenTopLevel are the top-level names the dagger CLI never offers,
// as dagql/dagui/opts.go's ShouldSkipFunction lists them for "Query" in
// v0.21.8: a module function of one of these names exists in the API but
// `dagger call NAME` says unknown command (seen for "function").
var cliHiddenTopLevel = []string{"_builtinContainer", "generatedCode", "currentFunctionCall", "currentModule",
	"typeDef", "sourceMap", "function", "cacheVolume", "setSecret", "with", "pipeline"}

func TestCI_TopLevelFunctionsAreNotHiddenByTheCLI(t *testing.T) {
	api, err := loadModuleAPI("../ci", "Esteira")
	require.NoError(t, err)
	for _, hidden := range cliHiddenTopLevel {
		name := cliName(hidden)
		_, found := api.object(api.root)[name]
		assert.False(t, found, "dagger call cannot reach the module's top-level %q: the CLI hides that name; rename it", name)
	}
	assert.Contains(t, api.object(api.root), "build", "the functions should be read from ci/")
}

// The constructor's settings are private: dagger functions must list
// functions only, not region or endpoint.
func TestCI_SettingsAreNotFunctions(t *testing.T) {
	api, err := loadModuleAPI("../ci", "Esteira")
	require.NoError(t, err)
	for _, setting := range []string{"region", "endpoint", "releases", "target"} {
		assert.NotContains(t, api.object(api.root), setting)
	}
	for _, noun := range []string{"backend", "site", "lambda", "env"} {
		assert.Contains(t, api.object(api.root), noun, "the module should be read from ci/")
	}
}
