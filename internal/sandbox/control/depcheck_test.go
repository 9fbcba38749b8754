package control_test

import (
	"go/build"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// control goes into the simulator binary: it may import internal/awssim
// and the standard library, nothing else (not internal/sandbox, which
// brings the release records and the AWS clients of the demo).
func TestControl_ImportsOnlyTheSimulatorAndTheStandardLibrary(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	require.NotEmpty(t, pkg.Imports)
	for _, imp := range pkg.Imports {
		std := !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
		assert.True(t, std || imp == "github.com/futuraplataforma/esteira/internal/awssim", "control imports %s", imp)
	}
}
