//go:build e2e

package pipelines_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// vars stands in for the CI systems' variables: the calls only need to parse.
var vars = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)

// Every dagger call of the shipped pipeline files and of the README's shell
// blocks parses under the real dagger CLI: `--help` after the call's own words makes the CLI check the
// functions and flags against the loaded module, then print help and run
// nothing. make e2e runs it with $DAGGER.
func TestPipelines_CallsParseUnderTheRealCLI(t *testing.T) {
	cli := os.Getenv("DAGGER")
	if cli == "" {
		cli = "dagger"
	}
	api, err := loadModuleAPI("../ci", "Esteira")
	require.NoError(t, err)
	for _, file := range shippedFiles {
		invs, errs := checkPipelineFile(api, file)
		require.Empty(t, errs)
		require.NotEmpty(t, invs, file)
		for _, inv := range invs {
			args := []string{"call"}
			for _, a := range inv.args {
				args = append(args, vars.ReplaceAllString(a, "x"))
			}
			cmd := exec.Command(cli, append(args, "--help")...)
			cmd.Dir = ".."
			out, err := cmd.CombinedOutput()
			// every call is tried, so one run names every broken one
			if assert.NoError(t, err, "%s: dagger %s --help:\n%s", inv.where, strings.Join(args, " "), tail(string(out), 6)) {
				assert.Contains(t, string(out), "USAGE", "%s: no help printed:\n%s", inv.where, out)
			}
		}
	}
}
