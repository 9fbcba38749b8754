// Package envfile reads esteira.yaml: the environments a project releases
// to (staging, production, ...), each with its AWS settings, the ECS
// services deployed from the backend image and the static frontend. Every
// mistake is reported with the file, the line and the key, before anything
// runs; flags given to a function still override what the file says.
package envfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultFile is where the environments live, at the project root.
const DefaultFile = "esteira.yaml"

// Environment is one environment of the file.
type Environment struct {
	Name          string
	Region        string
	Role          string // IAM role ARN to assume for this environment, or ""
	ReleaseBucket string
	ReleasePrefix string
	Repository    string
	Backend       *Backend
	Frontend      *Frontend
	// URL is where the environment answers; the gate gets it as ESTEIRA_URL.
	URL string
	// TestURL is where the new revision of a blue/green, linear or canary
	// service answers on its test listener during the deployment: with a
	// PAUSE hook after the test traffic shift, the gate runs against it
	// (as ESTEIRA_URL) before production traffic moves.
	TestURL string
	Gate    *Gate
	// Functions are the Lambda functions released with the environment.
	Functions []*Function
}

// Gate is the environment's quality gate: a container run after the
// rollout against URL, whose exit code decides whether the release stands.
type Gate struct {
	Image   string
	Command []string
}

// Backend is the ECS side: the services deployed from one image.
type Backend struct {
	Source     string // folder with the Dockerfile, relative to the project root
	Dockerfile string
	Cluster    string
	Services   []string
	Container  string
	Migrate    []string // the migration command, run once before the rollout
	// SnapshotDB is the RDS DB instance or Aurora cluster snapshotted
	// before the migration; SnapshotKeep how many such snapshots are kept.
	SnapshotDB   string
	SnapshotKeep int
	BackendSettings
	// TaskDefinition is what every service's release changes in its task
	// definition beside the image; Overrides, by service, are merged over it.
	TaskDefinition TaskDefinition
	Overrides      map[string]*TaskDefinition
	// Test, when set, replaces the source's preset tests; Checks run on
	// the source before anything is pushed.
	Test   *Test
	Checks []Check
	// CodeDeploy names, by service, the CodeDeploy application and
	// deployment group of each service CodeDeploy deploys.
	CodeDeploy map[string]CodeDeployGroup
}

// Definition is service's task definition change: the backend's, with the
// service's override merged over it; nil when there is none.
func (b *Backend) Definition(service string) *TaskDefinition {
	t := b.TaskDefinition.Override(b.Overrides[service])
	if t.IsZero() {
		return nil
	}
	return t
}

// Frontend is the static site.
type Frontend struct {
	Source         string // folder with package.json, relative to the project root
	BuildDir       string
	Bucket         string
	Prefix         string
	BackupBucket   string
	DistributionID string
	// Keep, when set, prunes after each release: the site's newest Keep
	// backups stay (0 keeps every one).
	Keep int
	FrontendSettings
}

// Error is a mistake in the file: where it is and what to do.
type Error struct {
	File string
	Line int
	Key  string // e.g. environments.staging.backend.services
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// Read loads environment name from the file at path on disk.
func Read(file, name string) (*Environment, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read the environment file: %w (create %s at the project root, or name another file)", err, DefaultFile)
	}
	return Parse(file, data, name)
}

// Parse reads environment name from data (the content of file, named in
// errors). It reports every mistake it finds, not just the first.
func Parse(file string, data []byte, name string) (*Environment, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: not valid YAML: %w", file, err)
	}
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		return nil, fmt.Errorf("%s: not valid YAML: %w", file, err)
	default: // whatever it says, nobody would read it
		return nil, fmt.Errorf("%s:%d: a second YAML document (after ---) would be ignored: keep one document, with environments: at its top", file, next.Line)
	}
	p := &parser{file: file}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Key: "environments", Msg: "the file is empty: define environments: {staging: {...}}"}
	}
	var envs *yaml.Node
	p.mapping(doc.Content[0], "", map[string]func(*yaml.Node, string){
		"environments": func(n *yaml.Node, key string) { envs = n },
	}, "environments")
	if envs == nil {
		return nil, p.result()
	}
	if envs.Kind != yaml.MappingNode {
		p.fail(envs, "environments", "must map environment names to their settings")
		return nil, p.result()
	}
	var names []string
	var found *Environment
	first := map[string]int{}
	for i := 0; i+1 < len(envs.Content); i += 2 {
		envName, body := envs.Content[i].Value, envs.Content[i+1]
		if p.twice(first, envs.Content[i], "environments."+envName) {
			continue
		}
		names = append(names, envName)
		env := p.environment(body, "environments."+envName)
		env.Name = envName
		if envName == name {
			found = env
		}
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	if found == nil {
		return nil, &Error{File: file, Line: envs.Line, Key: "environments",
			Msg: fmt.Sprintf("has no environment %q: it defines %s", name, strings.Join(names, ", "))}
	}
	return found, nil
}

type parser struct {
	file string
	errs []error
	// overrides are the backend's per-service overrides met, checked once
	// its services are known.
	overridesMet []override
}

type override struct {
	service, key string
	n            *yaml.Node
}

func (p *parser) fail(n *yaml.Node, key, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) result() error { return errors.Join(p.errs...) }

// mapping walks a mapping node: each known key goes to its handler, an
// unknown key is an error naming the keys that exist, required keys must be there.
func (p *parser) mapping(n *yaml.Node, prefix string, known map[string]func(*yaml.Node, string), required ...string) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, strings.TrimSuffix(prefix, "."), "must be a mapping of keys to values")
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		handle, ok := known[k.Value]
		switch {
		case !ok:
			p.fail(k, key, "unknown key: use one of %s", strings.Join(slices.Sorted(mapKeys(known)), ", "))
		case !p.twice(seen, k, key):
			handle(v, key)
		}
	}
	for _, r := range required {
		if _, ok := seen[r]; !ok {
			p.fail(n, prefix+r, "is required")
		}
	}
}

// twice reports a key already met in the same mapping (first holds the
// line of each key met): YAML would let the last one win, silently.
func (p *parser) twice(first map[string]int, k *yaml.Node, key string) bool {
	if line, ok := first[k.Value]; ok {
		p.fail(k, key, "is given twice (first at line %d): keep one, the second would silently replace the first", line)
		return true
	}
	first[k.Value] = k.Line
	return false
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (p *parser) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || strings.TrimSpace(n.Value) == "" {
			p.fail(n, key, "must be a non-empty string")
			return
		}
		if p.notString(n, key) {
			return
		}
		*dst = n.Value
	}
}

// yamlTypes names the YAML types a plain scalar can resolve to.
var yamlTypes = map[string]string{"!!bool": "a boolean", "!!int": "a number", "!!float": "a number", "!!timestamp": "a date", "!!binary": "binary data"}

// notString reports a scalar YAML reads as something other than a string
// (true, 1, 2024-01-01): it would reach AWS as text nobody wrote.
func (p *parser) notString(n *yaml.Node, key string) bool {
	if n.ShortTag() == "!!str" {
		return false
	}
	what, ok := yamlTypes[n.ShortTag()]
	if !ok {
		what = "of type " + n.ShortTag()
	}
	p.fail(n, key, "must be a string, and %s is %s in YAML: quote it (\"%s\") if you mean the text", n.Value, what, n.Value)
	return true
}

func (p *parser) list(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			p.fail(n, key, "must be a non-empty list, e.g. [api, worker]")
			return
		}
		for i, item := range n.Content {
			ik := fmt.Sprintf("%s[%d]", key, i)
			if item.Kind != yaml.ScalarNode || strings.TrimSpace(item.Value) == "" {
				p.fail(item, ik, "must be a non-empty string")
				continue
			}
			if p.notString(item, ik) {
				continue
			}
			*dst = append(*dst, item.Value)
		}
	}
}

// count is a whole number of at least 1.
func (p *parser) count(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		v, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || v < 1 {
			p.fail(n, key, "must be a whole number of at least 1")
			return
		}
		*dst = v
	}
}

// folder is a path inside the project: relative, without "..".
func (p *parser) folder(dst *string) func(*yaml.Node, string) {
	return p.inside(dst, "a folder inside the project, relative to the file")
}

// inside is a path that stays inside the folder it is relative to (what
// says which): relative, and no ".." that climbs out of it.
func (p *parser) inside(dst *string, what string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		var v string
		p.str(&v)(n, key)
		if v == "" {
			return
		}
		clean := path.Clean(v)
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			p.fail(n, key, "%q must be %s", v, what)
			return
		}
		*dst = clean
	}
}

func (p *parser) environment(n *yaml.Node, prefix string) *Environment {
	env := &Environment{}
	p.mapping(n, prefix+".", map[string]func(*yaml.Node, string){
		"region":        p.str(&env.Region),
		"role":          p.str(&env.Role),
		"releaseBucket": p.str(&env.ReleaseBucket),
		"releasePrefix": p.str(&env.ReleasePrefix),
		"repository":    p.str(&env.Repository),
		"url":           p.str(&env.URL),
		"testUrl":       p.str(&env.TestURL),
		"gate": func(n *yaml.Node, key string) {
			g := &Gate{}
			p.mapping(n, key+".", map[string]func(*yaml.Node, string){
				"image": p.str(&g.Image), "command": p.list(&g.Command),
			}, "image", "command")
			env.Gate = g
		},
		"backend": func(n *yaml.Node, key string) {
			b := &Backend{}
			p.mapping(n, key+".", merge(merge(map[string]func(*yaml.Node, string){
				"source": p.folder(&b.Source), "dockerfile": p.inside(&b.Dockerfile, "a file inside the backend's source folder"), "cluster": p.str(&b.Cluster),
				"services": p.list(&b.Services), "container": p.str(&b.Container), "migrate": p.list(&b.Migrate),
				"snapshotDb": p.str(&b.SnapshotDB), "snapshotKeep": p.count(&b.SnapshotKeep), "overrides": p.overrides(b),
				"test": p.test(&b.Test), "checks": p.checks(&b.Checks), "codeDeploy": p.codeDeploy(b),
			}, p.backendSettings(&b.BackendSettings)), p.taskDefinition(&b.TaskDefinition)), "cluster", "services")
			p.checkTaskDefinition(n, key, &b.TaskDefinition)
			p.checkOverrides(b)
			p.checkCodeDeploy(n, key, b)
			if b.SnapshotDB != "" && len(b.Migrate) == 0 {
				p.fail(n, key+".snapshotDb", "is taken before the migration, and there is none: add %s.migrate, or leave the snapshot out", key)
			}
			env.Backend = b
		},
		"frontend": func(n *yaml.Node, key string) {
			f := &Frontend{}
			p.mapping(n, key+".", merge(map[string]func(*yaml.Node, string){
				"source": p.folder(&f.Source), "buildDir": p.inside(&f.BuildDir, "a folder inside the frontend's source folder"), "bucket": p.str(&f.Bucket),
				"prefix": p.str(&f.Prefix), "backupBucket": p.str(&f.BackupBucket), "distributionId": p.str(&f.DistributionID),
				"keep": p.count(&f.Keep),
			}, p.frontendSettings(&f.FrontendSettings)), "source", "bucket")
			if f.BackupBucket == "" && !f.Atomic && n.Kind == yaml.MappingNode {
				p.fail(n, key+".backupBucket", "is required (except with atomic: true): the bucket the live site is backed up to before each release")
			}
			env.Frontend = f
		},
		"functions": func(n *yaml.Node, key string) { env.Functions = p.functions(n, key) },
	})
	if env.Backend != nil && env.Backend.Source != "" && env.Repository == "" {
		p.fail(n, prefix+".repository", "is required with backend.source: the ECR repository the image is pushed to")
	}
	for i, f := range env.Functions {
		if f.Image == BackendImage && env.Backend == nil {
			p.fail(n, fmt.Sprintf("%s.functions[%d].image", prefix, i), "is %q, but the environment has no backend to take the image from", BackendImage)
		}
	}
	if env.Backend == nil && env.Frontend == nil && len(env.Functions) == 0 {
		p.fail(n, prefix, "releases nothing: give it a backend, a frontend, functions or several")
	}
	return env
}
