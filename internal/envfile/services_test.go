package envfile

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse_ReadsTheServicesATestReaches(t *testing.T) {
	doc := `environments:
  s:
    backend:
      cluster: c
      services: [api]
      test:
        command: pytest
        services:
          - name: db
            image: postgres:16
            ports: [5432]
            environment: {POSTGRES_PASSWORD: test}
          - {name: fixtures, image: "python:3.11-slim-bookworm", ports: [8000, 8001], command: [python3, -m, http.server, "8000"]}
`
	env, err := Parse("esteira.yaml", []byte(doc), "s")
	require.NoError(t, err)
	assert.Equal(t, &Test{Command: "pytest", Services: []Service{
		{Name: "db", Image: "postgres:16", Ports: []int{5432}, Environment: map[string]string{"POSTGRES_PASSWORD": "test"}},
		{Name: "fixtures", Image: "python:3.11-slim-bookworm", Ports: []int{8000, 8001}, Command: []string{"python3", "-m", "http.server", "8000"}},
	}}, env.Backend.Test)

	preset, err := Parse("esteira.yaml", []byte("environments:\n  s:\n    backend:\n      cluster: c\n      services: [api]\n      test:\n        services: [{name: db, image: x, ports: [1]}]\n"), "s")
	require.NoError(t, err, "services alone: the source's preset runs beside them")
	assert.Equal(t, "db", preset.Backend.Test.Services[0].Name)
}

func TestParse_NamesServiceMistakesWithLineAndKey(t *testing.T) {
	for _, c := range []struct{ service, want string }{
		{"{name: DB, image: x, ports: [1]}", `esteira.yaml:6: environments.s.backend.test.services[0].name: "DB" is the hostname the tests reach it by`},
		{"{name: -db, image: x, ports: [1]}", `services[0].name: "-db" is the hostname`},
		{"{name: my_db, image: x, ports: [1]}", `services[0].name: "my_db" is the hostname`},
		{"{name: db, image: x}", "esteira.yaml:6: environments.s.backend.test.services[0].ports: is required"},
		{"{name: db, image: x, ports: []}", "services[0].ports: must be a non-empty list of the ports the service listens on"},
		{"{name: db, image: x, ports: [\"5432\"]}", "services[0].ports[0]: must be a port number from 1 to 65535"},
		{"{name: db, image: x, ports: [70000]}", "services[0].ports[0]: must be a port number from 1 to 65535"},
		{"{name: db, ports: [1]}", "services[0].image: is required"},
		{"{name: db, image: x, ports: [1], environment: {PORT: 5432}}", `services[0].environment.PORT: must be a string, and 5432 is a number in YAML`},
		{"{name: db, image: x, ports: [1], command: python3 -m http.server}", `services[0].command: must be a list of words, e.g. [python3, -m, http.server, "8000"]`},
		{"{name: db, image: x, ports: [1], volumes: [x]}", "services[0].volumes: unknown key: use one of command, environment, image, name, ports"},
		{"{name: db, image: x, ports: [1]}\n          - {name: db, image: y, ports: [2]}", "esteira.yaml:7: environments.s.backend.test.services[1].name: db is given twice (first at line 6)"},
	} {
		doc := "environments:\n  s:\n    backend:\n      test:\n        services:\n          - " + c.service + "\n      cluster: c\n      services: [api]\n"
		_, err := Parse("esteira.yaml", []byte(doc), "s")
		if assert.Error(t, err, c.service) {
			assert.Contains(t, err.Error(), c.want, c.service)
		}
	}
	_, err := Parse("esteira.yaml", []byte("environments:\n  s:\n    backend:\n      cluster: c\n      services: [api]\n      test: {target: test, services: [{name: db, image: x, ports: [1]}]}\n"), "s")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "esteira.yaml:6: environments.s.backend.test.services: cannot be reached from a Dockerfile stage (target): a build reaches no service")
}
