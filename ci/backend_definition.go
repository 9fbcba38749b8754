package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/envfile"
	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
)

// Change the task definition with each deploy: environment, secrets, sidecars, cpu, memory.
//
// Returns the backend with the change set for every one of its services.
// Deploy, plan and their dry runs then print the new revision against the
// live one field by field before anything changes, and a deploy whose
// image and definition are both unchanged does nothing. Variables and
// secrets merge by name over the live definition's: a name not given
// keeps its live value (remove one with --unset). Every secret named is
// checked to exist before any change; values are never read. With --file,
// the whole task definition is registered as it is instead. A failed
// rollout goes back to the exact revision before, environment included.
// In esteira.yaml the same is said per backend and per service.
func (b *Backend) WithDefinition(
	ctx context.Context,
	// Environment variables of the release's container, NAME=value, comma-separated (a word without = continues the value before it: SIZES=320,640 is one variable). Plain values: secrets go in --secret.
	// +optional
	env []string,
	// Secrets of the release's container, NAME=where the value is: a Secrets Manager secret ARN, or an SSM parameter's /path/name or ARN. Comma-separated; never a value.
	// +optional
	secret []string,
	// Variables or secrets to remove from the release's container, by name.
	// +optional
	unset []string,
	// Other containers of the task definition that run the release's image too (sidecars built from the same repository), by name.
	// +optional
	sidecar []string,
	// The task's cpu as ECS takes it, e.g. 512 or "1 vCPU". Default: the live value.
	// +optional
	cpu string,
	// The task's memory as ECS takes it, e.g. 1024 or "2 GB". Default: the live value.
	// +optional
	memory string,
	// A whole task definition (the JSON aws ecs register-task-definition --cli-input-json takes, with {{image}} where the release's image goes), registered as the new revision; nothing else may be given with it.
	// +optional
	file *dagger.File,
) (*Backend, error) {
	def := &envfile.TaskDefinition{CPU: cpu, Memory: memory}
	vars, err := lambdadeploy.ParseEnv(env)
	if err != nil {
		return nil, fmt.Errorf("with-definition --env: %w", err)
	}
	for name, v := range vars {
		def.Environment = setName(def.Environment, name, &v)
	}
	for _, s := range secret {
		name, from, ok := cutPair(s)
		if !ok {
			return nil, fmt.Errorf("with-definition --secret %q: give NAME=valueFrom, e.g. DB_URL=arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf", s)
		}
		if why := envfile.CheckSecretRef(from); why != "" {
			return nil, fmt.Errorf("with-definition --secret %s: %s", name, why)
		}
		def.Secrets = setName(def.Secrets, name, &from)
	}
	for _, name := range unset {
		if !envName.MatchString(name) {
			return nil, fmt.Errorf("with-definition --unset %q: name a variable or secret", name)
		}
		def.Environment, def.Secrets = setName(def.Environment, name, nil), setName(def.Secrets, name, nil)
	}
	for _, name := range sidecar {
		if def.Containers == nil {
			def.Containers = map[string]*envfile.Container{}
		}
		def.Containers[name] = &envfile.Container{Image: envfile.ReleaseImage}
	}
	defs := map[string]ecsdeploy.Definition{}
	for _, svc := range b.Services {
		d := engineDefinition(def)
		if file != nil {
			if !def.IsZero() {
				return nil, errors.New("with-definition --file is the whole task definition: give --env, --secret, --unset, --sidecar, --cpu and --memory in it, not beside it")
			}
			name, err := file.Name(ctx)
			if err != nil {
				return nil, fmt.Errorf("with-definition --file: %s", why(err))
			}
			data, err := file.Contents(ctx)
			if err != nil {
				return nil, fmt.Errorf("with-definition --file %s: %s", name, why(err))
			}
			d = ecsdeploy.Definition{File: []byte(data), FileName: name}
		}
		defs[svc] = d
	}
	return b.withDefinitions(defs)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func cutPair(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '=' {
			return s[:i], s[i+1:], envName.MatchString(s[:i]) && s[i+1:] != ""
		}
	}
	return "", "", false
}

func setName(m map[string]*string, name string, v *string) map[string]*string {
	if m == nil {
		m = map[string]*string{}
	}
	m[name] = v
	return m
}

// withDefinitions is b with defs, by service, kept as JSON: a Dagger
// object's state holds no maps.
func (b *Backend) withDefinitions(defs map[string]ecsdeploy.Definition) (*Backend, error) {
	data, err := json.Marshal(defs)
	if err != nil {
		return nil, err
	}
	c := *b
	c.Definitions = string(data)
	return &c, nil
}

// definitions are the task definition changes by service, or nil.
func (b *Backend) definitions() (map[string]ecsdeploy.Definition, error) {
	if b.Definitions == "" {
		return nil, nil
	}
	var defs map[string]ecsdeploy.Definition
	if err := json.Unmarshal([]byte(b.Definitions), &defs); err != nil {
		return nil, fmt.Errorf("the backend's task definition changes are unreadable: %w", err)
	}
	return defs, nil
}

// engineDefinition is the file's (or the flags') definition as the engine takes it.
func engineDefinition(t *envfile.TaskDefinition) ecsdeploy.Definition {
	d := ecsdeploy.Definition{CPU: t.CPU, Memory: t.Memory}
	if len(t.Environment)+len(t.Secrets) > 0 {
		d.Containers = map[string]ecsdeploy.ContainerChange{"": {Environment: t.Environment, Secrets: t.Secrets}}
	}
	names := make([]string, 0, len(t.Containers))
	for name := range t.Containers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := t.Containers[name]
		if d.Containers == nil {
			d.Containers = map[string]ecsdeploy.ContainerChange{}
		}
		d.Containers[name] = ecsdeploy.ContainerChange{Image: c.Image, Environment: c.Environment, Secrets: c.Secrets}
	}
	return d
}

// fileDefinitions are the environment's task definition changes by
// service, with each definition file read from the project.
func fileDefinitions(ctx context.Context, project *dagger.Directory, b *envfile.Backend) (map[string]ecsdeploy.Definition, error) {
	defs := map[string]ecsdeploy.Definition{}
	for _, svc := range b.Services {
		t := b.Definition(svc)
		if t == nil {
			continue
		}
		d := engineDefinition(t)
		if t.File != "" {
			data, err := project.File(t.File).Contents(ctx)
			if err != nil {
				return nil, fmt.Errorf("read the task definition file %s of service %s: %s", t.File, svc, why(err))
			}
			d = ecsdeploy.Definition{File: []byte(data), FileName: t.File}
		}
		defs[svc] = d
	}
	return defs, nil
}
