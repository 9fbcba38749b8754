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
    testUrl: https://staging.acme.example:8443
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
      timeout: 20m
      pollInterval: 10s
      lockStaleAfter: 2h
      failureThreshold: 4
      strategy: rolling
      codeDeploy:
        worker: {application: acme, deploymentGroup: worker-dg}
      redact: [--dsn]
      environment: {LOG_LEVEL: info, OLD_FLAG: null}
      secrets: {DB_URL: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging/db-AbCdEf", API_TOKEN: /staging/api/token}
      cpu: 512
      memory: "1 GB"
      containers:
        log-router: {image: release, environment: {FLUSH: "5"}}
      overrides:
        worker: {environment: {QUEUE: default}, memory: 2048}
      test: {target: test}
      checks:
        - {name: lint, image: "golangci/golangci-lint:v2", command: golangci-lint run}
    frontend:
      source: examples/frontend
      buildDir: dist
      bucket: acme-www-staging
      prefix: site
      backupBucket: acme-www-backups
      distributionId: E2ABCDEF123456
      keep: 20
      atomic: true
      keyValueStore: arn:aws:cloudfront::123456789012:key-value-store/abc
      pointerKey: www
      maxDelete: 0
      cacheControl: "**=no-cache"
      precompress: [gzip]
      concurrency: 16
    functions:
      - {name: resize, alias: live, source: examples/lambda, env: {SIZES: "320,640"}, canary: 10%, bake: 5m, alarms: [resize-errors], timeout: 2m, pollInterval: 1s}
      - {name: events, image: backend}
  production:
    region: eu-west-1
    frontend: {source: examples/frontend, bucket: acme-www, backupBucket: acme-www-backups}
`

func TestParse_ReadsAnEnvironment(t *testing.T) {
	zero := 0
	env, err := Parse("esteira.yaml", []byte(full), "staging")
	require.NoError(t, err)
	assert.Equal(t, &Environment{Name: "staging", Region: "eu-west-1", Role: "arn:aws:iam::123456789012:role/esteira-deploy", ReleaseBucket: "acme-releases", ReleasePrefix: "esteira",
		Repository: "backend", URL: "https://staging.acme.example", TestURL: "https://staging.acme.example:8443",
		Gate: &Gate{Image: "debian:bookworm", Command: []string{"sh", "-c", `test -n "$ESTEIRA_URL"`}},
		Backend: &Backend{Source: "examples/backend", Dockerfile: "Dockerfile", Cluster: "staging", Services: []string{"api", "worker"},
			Container: "app", Migrate: []string{"migrate"}, SnapshotDB: "orders", SnapshotKeep: 5,
			CodeDeploy:      map[string]CodeDeployGroup{"worker": {Application: "acme", DeploymentGroup: "worker-dg"}},
			BackendSettings: BackendSettings{Timeout: "20m", PollInterval: "10s", LockStaleAfter: "2h", FailureThreshold: 4, Redact: []string{"--dsn"}, Strategy: Strategy{Type: "rolling"}},
			TaskDefinition: TaskDefinition{
				Environment: map[string]*string{"LOG_LEVEL": ptr("info"), "OLD_FLAG": nil},
				Secrets:     map[string]*string{"DB_URL": ptr("arn:aws:secretsmanager:eu-west-1:123456789012:secret:staging/db-AbCdEf"), "API_TOKEN": ptr("/staging/api/token")},
				CPU:         "512", Memory: "1 GB",
				Containers: map[string]*Container{"log-router": {Image: ReleaseImage, Environment: map[string]*string{"FLUSH": ptr("5")}}},
			},
			Overrides: map[string]*TaskDefinition{"worker": {Environment: map[string]*string{"QUEUE": ptr("default")}, Memory: "2048"}},
			Test:      &Test{Target: "test"}, Checks: []Check{{Name: "lint", Image: "golangci/golangci-lint:v2", Command: "golangci-lint run"}}},
		Frontend: &Frontend{Source: "examples/frontend", BuildDir: "dist", Bucket: "acme-www-staging", Prefix: "site",
			BackupBucket: "acme-www-backups", DistributionID: "E2ABCDEF123456", Keep: 20,
			FrontendSettings: FrontendSettings{Atomic: true, KeyValueStore: "arn:aws:cloudfront::123456789012:key-value-store/abc", PointerKey: "www",
				MaxDelete: &zero, CacheControl: "**=no-cache", Precompress: []string{"gzip"}, Concurrency: 16}},
		Functions: []*Function{
			{Name: "resize", Alias: "live", Source: "examples/lambda", Env: map[string]string{"SIZES": "320,640"}, Canary: "10%", Bake: "5m", Alarms: []string{"resize-errors"},
				FunctionSettings: FunctionSettings{Timeout: "2m", PollInterval: "1s"}},
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
		"esteira.yaml:7: environments.staging.backend.servces: unknown key: use one of checks, cluster, codeDeploy, container, containers, cpu, dockerfile, environment, failureThreshold, lockStaleAfter, memory, migrate, overrides, pollInterval, redact, secrets, services, snapshotDb, snapshotKeep, source, strategy, taskDefinition, test, timeout",
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
		{"environments:\n  s:\n    backend: {cluster: c, services: [a], codeDeploy: {b: {application: x, deploymentGroup: y}}}\n", "s",
			"environments.s.backend.codeDeploy.b: is not one of the backend's services ([a]): name a service it releases"},
		{"environments:\n  s:\n    backend: {cluster: c, services: [a], strategy: blue/green}\n", "s",
			"esteira.yaml:3: environments.s.backend.strategy: \"blue/green\": choose one of rolling, blue-green, linear, canary"},
		{"environments:\n  s:\n    backend: {cluster: c, services: [a], strategy: {percent: 10}}\n", "s",
			"esteira.yaml:3: environments.s.backend.strategy.type: is required"},
		{"environments:\n  s:\n    backend: {cluster: c, services: [a], strategy: {type: canary, percent: ten}}\n", "s",
			"environments.s.backend.strategy.percent: must be a percentage above 0 and at most 100"},
		{"environments:\n  s:\n    backend: {cluster: c, services: [a], strategy: {type: linear, stepBake: 5}}\n", "s",
			"environments.s.backend.strategy.stepBake: unknown key: use one of alarms, bakeMinutes, percent, stepBakeMinutes, type"},
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
		keys := keysUnder(section)
		if section == "backend" { // a whole-definition file excludes the other keys: TestParse_ReadsATaskDefinitionFile has it
			keys = append(keys, "taskDefinition")
			slices.Sort(keys)
		}
		assert.Equal(t, keys, props, section)
	}
	assert.ElementsMatch(t, []string{"cluster", "services"}, schema.Defs["backend"].Required)
	assert.ElementsMatch(t, []string{"source", "bucket"}, schema.Defs["frontend"].Required, "backupBucket is required unless atomic")
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
	keys := []string{"alarms", "alias", "bake", "canary", "env", "image", "name", "pollInterval", "source", "timeout"}
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

// Every setting of the Dagger module's objects can be given in the file;
// bad values are named, and an atomic site needs no backup bucket.
func TestParse_ObjectSettingsAreCheckedAndAtomicNeedsNoBackupBucket(t *testing.T) {
	env, err := Parse("esteira.yaml", []byte("environments:\n  s:\n    frontend: {source: a, bucket: b, atomic: true}\n"), "s")
	require.NoError(t, err)
	assert.True(t, env.Frontend.Atomic)
	assert.Nil(t, env.Frontend.MaxDelete, "no maxDelete: the default limit")
	for doc, want := range map[string]string{
		"environments:\n  s:\n    frontend: {source: a, bucket: b}\n":                              "environments.s.frontend.backupBucket: is required (except with atomic: true)",
		"environments:\n  s:\n    frontend: {source: a, bucket: b, atomic: maybe}\n":               "environments.s.frontend.atomic: must be true or false",
		"environments:\n  s:\n    frontend: {source: a, bucket: b, atomic: true, maxDelete: -1}\n": "environments.s.frontend.maxDelete: must be a whole number of 0 or more",
		"environments:\n  s:\n    backend: {cluster: c, services: [a], timeout: soon}\n":           "environments.s.backend.timeout: must be a positive duration",
		"environments:\n  s:\n    functions: [{name: f, source: a, pollInterval: 0s}]\n":           "environments.s.functions[0].pollInterval: must be a positive duration",
	} {
		_, err := Parse("esteira.yaml", []byte(doc), "s")
		require.Error(t, err, doc)
		assert.Contains(t, err.Error(), want, doc)
	}
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

// What YAML would otherwise read silently into something nobody meant is
// refused with the file, the line and the key: a key given twice at any
// level (the last would win), a second document (it would be ignored), a
// scalar of another YAML type where a string or a number belongs, a path
// that leaves the folder it is relative to.
func TestParse_RefusesWhatWouldBeMisreadSilently(t *testing.T) {
	const fe = "    frontend: {source: web, bucket: b, backupBucket: k}\n"
	for _, c := range []struct{ name, doc, want string }{
		{"environment twice", "environments:\n  s:\n    region: eu-west-1\n" + fe + "  s:\n    region: us-east-1\n" + fe,
			"esteira.yaml:5: environments.s: is given twice (first at line 2)"},
		{"key twice", "environments:\n  s:\n    region: eu-west-1\n    region: us-east-1\n" + fe,
			"esteira.yaml:4: environments.s.region: is given twice (first at line 3)"},
		{"top-level key twice", "environments:\n  s:\n" + fe + "environments:\n  t:\n" + fe,
			"esteira.yaml:4: environments: is given twice (first at line 1)"},
		{"function env twice", "environments:\n  s:\n    functions:\n      - name: f\n        source: a\n        env: {A: x, A: y}\n",
			"esteira.yaml:6: environments.s.functions[0].env.A: is given twice (first at line 6)"},
		{"second document", "environments:\n  s:\n" + fe + "---\nenvironments:\n  s:\n" + fe,
			"esteira.yaml:4: a second YAML document (after ---) would be ignored"},
		{"boolean for a string", "environments:\n  s:\n    frontend: {source: web, bucket: true, backupBucket: k}\n",
			`esteira.yaml:3: environments.s.frontend.bucket: must be a string, and true is a boolean in YAML`},
		{"number for a string", "environments:\n  s:\n    region: 1\n" + fe,
			`esteira.yaml:3: environments.s.region: must be a string, and 1 is a number in YAML`},
		{"number in a list of strings", "environments:\n  s:\n    backend: {cluster: c, services: [api, 2]}\n",
			`esteira.yaml:3: environments.s.backend.services[1]: must be a string, and 2 is a number in YAML`},
		{"number for an env value", "environments:\n  s:\n    functions: [{name: f, source: a, env: {PORT: 8080}}]\n",
			`esteira.yaml:3: environments.s.functions[0].env.PORT: must be a string, and 8080 is a number in YAML`},
		{"string for a number", "environments:\n  s:\n    frontend: {source: web, bucket: b, backupBucket: k, keep: \"5\"}\n",
			`esteira.yaml:3: environments.s.frontend.keep: must be a whole number of at least 1`},
		{"buildDir escaping", "environments:\n  s:\n    frontend: {source: web, buildDir: ../../etc, bucket: b, backupBucket: k}\n",
			`esteira.yaml:3: environments.s.frontend.buildDir: "../../etc" must be a folder inside the frontend's source folder`},
		{"buildDir absolute", "environments:\n  s:\n    frontend: {source: web, buildDir: /etc, bucket: b, backupBucket: k}\n",
			`esteira.yaml:3: environments.s.frontend.buildDir: "/etc" must be a folder inside the frontend's source folder`},
		{"dockerfile escaping", "environments:\n  s:\n    repository: r\n    backend: {source: api, dockerfile: ../Dockerfile, cluster: c, services: [a]}\n",
			`esteira.yaml:4: environments.s.backend.dockerfile: "../Dockerfile" must be a file inside the backend's source folder`},
		{"string for a boolean", "environments:\n  s:\n    frontend: {source: web, bucket: b, atomic: \"false\"}\n",
			`esteira.yaml:3: environments.s.frontend.atomic: must be true or false`},
		{"number for a boolean", "environments:\n  s:\n    frontend: {source: web, bucket: b, atomic: 1}\n",
			`esteira.yaml:3: environments.s.frontend.atomic: must be true or false`},
		{"string for a count", "environments:\n  s:\n    frontend: {source: web, bucket: b, backupBucket: k, maxDelete: \"0\"}\n",
			`esteira.yaml:3: environments.s.frontend.maxDelete: must be a whole number of 0 or more`},
		{"function source escaping", "environments:\n  s:\n    functions: [{name: f, source: a/../../x}]\n",
			`esteira.yaml:3: environments.s.functions[0].source: "a/../../x" must be a folder inside the project`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("esteira.yaml", []byte(c.doc), "s")
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// A quoted value is a string, whatever it looks like; a path that only
// looks like it leaves (a/../b) stays inside and is kept clean.
func TestParse_AcceptsQuotedScalarsAndPathsThatStayInside(t *testing.T) {
	doc := "environments:\n  s:\n    region: \"1\"\n    frontend: {source: web/../site, buildDir: \"./out/../dist\", bucket: \"true\", backupBucket: k}\n" +
		"    functions: [{name: f, source: fn, env: {PORT: \"8080\"}}]\n"
	env, err := Parse("esteira.yaml", []byte(doc), "s")
	require.NoError(t, err)
	assert.Equal(t, "1", env.Region)
	assert.Equal(t, &Frontend{Source: "site", BuildDir: "dist", Bucket: "true", BackupBucket: "k"}, env.Frontend)
	assert.Equal(t, map[string]string{"PORT": "8080"}, env.Functions[0].Env)
}

func ptr(s string) *string { return &s }

func TestBackend_DefinitionMergesAServicesOverrideOverTheBackends(t *testing.T) {
	env, err := Parse("esteira.yaml", []byte(full), "staging")
	require.NoError(t, err)
	api, worker := env.Backend.Definition("api"), env.Backend.Definition("worker")
	assert.Equal(t, "1 GB", api.Memory)
	assert.Equal(t, "2048", worker.Memory, "the service's own value wins")
	assert.Equal(t, map[string]*string{"LOG_LEVEL": ptr("info"), "OLD_FLAG": nil, "QUEUE": ptr("default")}, worker.Environment, "merged by name")
	assert.Equal(t, api.Secrets, worker.Secrets)
	assert.Contains(t, worker.Containers, "log-router")
	plain, err := Parse("esteira.yaml", []byte("environments:\n  s:\n    backend: {cluster: c, services: [a]}\n"), "s")
	require.NoError(t, err)
	assert.Nil(t, plain.Backend.Definition("a"), "no change: a copy of the live revision with the image changed")
}

func TestParse_ReadsATaskDefinitionFile(t *testing.T) {
	doc := "environments:\n  s:\n    backend:\n      cluster: c\n      services: [api, worker]\n      taskDefinition: deploy/api.json\n" +
		"      overrides:\n        worker: {taskDefinition: deploy/worker.json}\n"
	env, err := Parse("esteira.yaml", []byte(doc), "s")
	require.NoError(t, err)
	assert.Equal(t, "deploy/api.json", env.Backend.Definition("api").File)
	assert.Equal(t, &TaskDefinition{File: "deploy/worker.json"}, env.Backend.Definition("worker"), "a service's own file is its whole definition")
}

func TestParse_NamesTaskDefinitionMistakesWithLineAndKey(t *testing.T) {
	for _, c := range []struct{ backend, want string }{
		{"environment: {PORT: 8080}", `esteira.yaml:4: environments.s.backend.environment.PORT: must be a string, and 8080 is a number in YAML: quote it ("8080")`},
		{"environment: {1BAD: x}", `environments.s.backend.environment.1BAD: "1BAD" is not an environment variable name`},
		{"secrets: {DB_URL: postgres://u:p@db/app}", `environments.s.backend.secrets.DB_URL: "postgres://u:p@db/app" is neither a Secrets Manager secret ARN`},
		{"secrets: {K: arn:aws:s3:::bucket}", "is neither a Secrets Manager secret ARN"},
		{"containers: {log-router: {image: fluent/fluent-bit:3}}", `environments.s.backend.containers.log-router.image: "fluent/fluent-bit:3": give "release"`},
		{"containers: {log-router: {imag: release}}", "environments.s.backend.containers.log-router.imag: unknown key"},
		{"cpu: [1]", "environments.s.backend.cpu: must be a number like 512"},
		{"taskDefinition: ../outside.json", "must be a JSON file inside the project"},
		{"taskDefinition: td.json\n      environment: {A: b}", "environments.s.backend.taskDefinition: is the whole task definition: put environment"},
		{"test: {target: test, command: make test}", "environments.s.backend.test: give target (a Dockerfile stage whose build is the test) or image and command, not both"},
		{"test: {image: node:22}", "environments.s.backend.test.command: is required with image"},
		{"checks: [{name: lint, image: x}]", "environments.s.backend.checks[0].command: is required"},
		{"checks: [{name: Lint, image: x, command: y}]", `environments.s.backend.checks[0].name: "Lint": use lower-case letters`},
		{"checks: [{name: a, image: x, command: y}, {name: a, image: x, command: z}]", "environments.s.backend.checks[1].name: a is given twice"},
		{"overrides: {web: {cpu: 256}}", `esteira.yaml:4: environments.s.backend.overrides.web: web is not one of the backend's services (api)`},
	} {
		doc := "environments:\n  s:\n    backend:\n      " + c.backend + "\n      cluster: c\n      services: [api]\n"
		_, err := Parse("esteira.yaml", []byte(doc), "s")
		if assert.Error(t, err, c.backend) {
			assert.Contains(t, err.Error(), c.want, c.backend)
		}
	}
}
