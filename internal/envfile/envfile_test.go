package envfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// full uses every key the file knows.
const full = `environments:
  staging:
    region: eu-west-1
    role: arn:aws:iam::123456789012:role/esteira-deploy
    releaseBucket: acme-releases
    releasePrefix: esteira
    repository: backend
    url: https://staging.acme.example
    gate:
      image: debian:bookworm
      command: [sh, -c, 'test -n "$ESTEIRA_URL"']
    backend:
      source: examples/backend
      dockerfile: Dockerfile
      cluster: staging
      services: [api, worker]
      container: app
      migrate: [migrate]
      snapshotDb: orders
      snapshotKeep: 5
    frontend:
      source: examples/frontend
      buildDir: dist
      bucket: acme-www-staging
      prefix: site
      backupBucket: acme-www-backups
      distributionId: E2ABCDEF123456
      keep: 20
    functions:
      - {name: resize, alias: live, source: examples/lambda, env: {SIZES: "320,640"}, canary: 10%, bake: 5m, alarms: [resize-errors]}
      - {name: events, image: backend}
  production:
    region: eu-west-1
    frontend: {source: examples/frontend, bucket: acme-www, backupBucket: acme-www-backups}
`

func TestParse_ReadsAnEnvironment(t *testing.T) {
	env, err := Parse("esteira.yaml", []byte(full), "staging")
	require.NoError(t, err)
	assert.Equal(t, &Environment{Name: "staging", Region: "eu-west-1", Role: "arn:aws:iam::123456789012:role/esteira-deploy", ReleaseBucket: "acme-releases", ReleasePrefix: "esteira",
		Repository: "backend", URL: "https://staging.acme.example",
		Gate: &Gate{Image: "debian:bookworm", Command: []string{"sh", "-c", `test -n "$ESTEIRA_URL"`}},
		Backend: &Backend{Source: "examples/backend", Dockerfile: "Dockerfile", Cluster: "staging", Services: []string{"api", "worker"},
			Container: "app", Migrate: []string{"migrate"}, SnapshotDB: "orders", SnapshotKeep: 5},
		Frontend: &Frontend{Source: "examples/frontend", BuildDir: "dist", Bucket: "acme-www-staging", Prefix: "site",
			BackupBucket: "acme-www-backups", DistributionID: "E2ABCDEF123456", Keep: 20},
		Functions: []*Function{
			{Name: "resize", Alias: "live", Source: "examples/lambda", Env: map[string]string{"SIZES": "320,640"}, Canary: "10%", Bake: "5m", Alarms: []string{"resize-errors"}},
			{Name: "events", Image: BackendImage}}}, env)
	prod, err := Parse("esteira.yaml", []byte(full), "production")
	require.NoError(t, err)
	assert.Nil(t, prod.Backend)
}

// Every mistake names the file, the line and the key, all of them at once.
func TestParse_NamesFileLineAndKeyOfEveryMistake(t *testing.T) {
	bad := `environments:
  staging:
    region: eu-west-1
    backend:
      source: ../elsewhere
      cluster: staging
      servces: [api]
    frontend:
      source: examples/frontend
      bucket: ""
`
	_, err := Parse("esteira.yaml", []byte(bad), "staging")
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`esteira.yaml:5: environments.staging.backend.source: "../elsewhere" must be a folder inside the project`,
		"esteira.yaml:7: environments.staging.backend.servces: unknown key: use one of cluster, container, dockerfile, migrate, services, snapshotDb, snapshotKeep, source",
		"esteira.yaml:5: environments.staging.backend.services: is required",
		"esteira.yaml:10: environments.staging.frontend.bucket: must be a non-empty string",
		"esteira.yaml:9: environments.staging.frontend.backupBucket: is required",
	} {
		assert.Contains(t, msg, want)
	}
	for _, c := range []struct{ doc, name, want string }{
		{full, "prod", `esteira.yaml:2: environments: has no environment "prod": it defines staging, production`},
		{"", "staging", "the file is empty"},
		{"environment:\n  staging: {}\n", "staging", "esteira.yaml:1: environment: unknown key: use one of environments"},
		{"environments:\n  staging:\n    region: eu-west-1\n", "staging", "environments.staging: releases nothing"},
		{"environments:\n  s:\n    backend: {source: b, cluster: c, services: [a]}\n", "s", "environments.s.repository: is required with backend.source"},
		{"environments: [a]\n", "a", "esteira.yaml:1: environments: must map"},
		{"environments:\n  s:\n    backend: {cluster: c, services: []}\n", "s", "environments.s.backend.services: must be a non-empty list"},
		{"{{{", "s", "esteira.yaml: not valid YAML"},
		{"environments:\n  s:\n    backend: {cluster: c, services: [a], snapshotDb: orders}\n", "s",
			"esteira.yaml:3: environments.s.backend.snapshotDb: is taken before the migration, and there is none: add environments.s.backend.migrate"},
		{"environments:\n  s:\n    backend: {cluster: c, services: [a], migrate: [m], snapshotKeep: 0}\n", "s",
			"environments.s.backend.snapshotKeep: must be a whole number of at least 1"},
	} {
		_, err := Parse("esteira.yaml", []byte(c.doc), c.name)
		require.Error(t, err, c.doc)
		assert.Contains(t, err.Error(), c.want, c.doc)
	}
}

// The JSON Schema (for editor completion) knows exactly the keys the parser knows.
func TestSchema_KnowsTheKeysTheParserKnows(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "esteira.schema.json"))
	require.NoError(t, err)
	var schema struct {
		Defs map[string]struct {
			Properties map[string]any `json:"properties"`
			Required   []string       `json:"required"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(data, &schema))
	keysUnder := func(section string) []string { // the keys full uses at one indentation level of a section
		var keys []string
		indent := map[string]string{"environment": "    ", "backend": "      ", "frontend": "      ", "gate": "      "}[section]
		inSection := section == "environment"
		for _, line := range strings.Split(full, "\n") {
			if strings.HasPrefix(line, "  production:") {
				break
			}
			if strings.TrimSpace(line) == section+":" {
				inSection = true
				continue
			}
			if m := regexp.MustCompile(`^` + indent + `(\w+):`).FindStringSubmatch(line); m != nil && inSection {
				keys = append(keys, m[1])
			} else if section != "environment" && inSection && !strings.HasPrefix(line, indent) {
				inSection = false
			}
		}
		slices.Sort(keys)
		return keys
	}
	for _, section := range []string{"environment", "backend", "frontend", "gate"} {
		var props []string
		for k := range schema.Defs[section].Properties {
			props = append(props, k)
		}
		slices.Sort(props)
		assert.Equal(t, keysUnder(section), props, section)
	}
	assert.ElementsMatch(t, []string{"cluster", "services"}, schema.Defs["backend"].Required)
	assert.ElementsMatch(t, []string{"source", "bucket", "backupBucket"}, schema.Defs["frontend"].Required)
}

// The project's own esteira.yaml (the sandbox environment) stays valid.
func TestRead_TheProjectsOwnFile(t *testing.T) {
	env, err := Read(filepath.Join("..", "..", DefaultFile), "sandbox")
	require.NoError(t, err)
	assert.Equal(t, []string{"backend", "worker"}, env.Backend.Services)
	assert.Equal(t, "examples/frontend", env.Frontend.Source)
}

// The schema's function keys are the parser's: every key of a function is
// accepted, and the schema lists exactly those.
func TestSchema_KnowsTheFunctionKeys(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "esteira.schema.json"))
	require.NoError(t, err)
	var schema struct {
		Defs map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(data, &schema))
	keys := []string{"alarms", "alias", "bake", "canary", "env", "image", "name", "source"}
	var props []string
	for k := range schema.Defs["function"].Properties {
		props = append(props, k)
	}
	slices.Sort(props)
	assert.Equal(t, keys, props)
	_, err = Parse("esteira.yaml", []byte("environments:\n  s:\n    functions: [{name: f, source: a, nme: x}]\n"), "s")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown key: use one of "+strings.Join(keys, ", "))
}

func TestParse_NamesFunctionMistakes(t *testing.T) {
	for doc, want := range map[string]string{
		"environments:\n  s:\n    functions: [{name: f}]\n":                                  "environments.s.functions[0]: give source",
		"environments:\n  s:\n    functions: [{name: f, source: a, image: b}]\n":             "environments.s.functions[0]: give source",
		"environments:\n  s:\n    functions: [{name: f, image: backend}]\n":                  "environments.s.functions[0].image: is \"backend\", but the environment has no backend",
		"environments:\n  s:\n    functions: [{name: f, source: a, canary: 10}]\n":           `environments.s.functions[0].canary: "10" must be a percentage`,
		"environments:\n  s:\n    functions: [{name: f, source: a, bake: soon}]\n":           `environments.s.functions[0].bake: "soon" must be a duration`,
		"environments:\n  s:\n    functions: [{name: f, source: a}, {name: f, source: b}]\n": `environments.s.functions[1].name: "f" is listed twice`,
	} {
		_, err := Parse("esteira.yaml", []byte(doc), "s")
		require.Error(t, err, doc)
		assert.Contains(t, err.Error(), want, doc)
	}
}
