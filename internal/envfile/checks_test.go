package envfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse_ReadsTheSecretsACheckNames(t *testing.T) {
	doc := "environments:\n  s:\n    backend:\n      cluster: c\n      services: [api]\n      checks:\n" +
		"        - {name: sonar, image: sonarsource/sonar-scanner-cli:11, command: sonar-scanner, secrets: [SONAR_TOKEN, SONAR_HOST_URL]}\n" +
		"        - {name: lint, image: x, command: y}\n"
	env, err := Parse("esteira.yaml", []byte(doc), "s")
	require.NoError(t, err)
	assert.Equal(t, []Check{
		{Name: "sonar", Image: "sonarsource/sonar-scanner-cli:11", Command: "sonar-scanner", Secrets: []string{"SONAR_TOKEN", "SONAR_HOST_URL"}},
		{Name: "lint", Image: "x", Command: "y"},
	}, env.Backend.Checks)

	for _, c := range []struct{ secrets, want string }{
		{"[sonar-token]", `esteira.yaml:7: environments.s.backend.checks[0].secrets[0]: "sonar-token" is not an environment variable name`},
		{"[A, 1B]", `environments.s.backend.checks[0].secrets[1]: "1B" is not an environment variable name`},
		{"[A, A]", "environments.s.backend.checks[0].secrets[1]: A is given twice"},
		{"SONAR_TOKEN", "environments.s.backend.checks[0].secrets: must be a non-empty list"},
		{"[]", "environments.s.backend.checks[0].secrets: must be a non-empty list"},
	} {
		doc := "environments:\n  s:\n    backend:\n      cluster: c\n      services: [api]\n      checks:\n        - {name: a, image: x, command: y, secrets: " + c.secrets + "}\n"
		_, err := Parse("esteira.yaml", []byte(doc), "s")
		if assert.Error(t, err, c.secrets) {
			assert.Contains(t, err.Error(), c.want, c.secrets)
		}
	}
}
