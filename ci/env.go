package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/envfile"
	"github.com/futuraplataforma/esteira/internal/envrelease"
)

// Environment is one environment of esteira.yaml: release, promote and status
// it, or reach its backend, site or functions with every setting the file gives.
type Environment struct {
	// +private
	M *Esteira
	// +private
	Name string
	// +private
	Project *dagger.Directory
	// +private
	File string
	// +private
	Timeout string
	// +private
	PollInterval string
	// +private
	BreakLock bool
	// SecretNames and SecretValues are the secrets given with with-secret,
	// by name, for the checks that name them.
	// +private
	SecretNames []string
	// +private
	SecretValues []*dagger.Secret
}

// An environment of esteira.yaml, e.g. env --name production release.
func (m *Esteira) Env(
	// The environment, e.g. staging.
	name string,
	// The project: esteira.yaml and the folders it names.
	// +defaultPath="/"
	// +ignore=["**/node_modules", ".cache", "**/.terraform"]
	project *dagger.Directory,
	// The environment file, relative to the project.
	// +optional
	// +default="esteira.yaml"
	file string,
	// How long to wait for a migration, each rollout and each Lambda update, e.g. 15m. Default: the file's timeout, else 15m (5m for functions).
	// +optional
	timeout string,
	// How often to poll AWS while waiting, e.g. 5s. Default: the file's pollInterval, else 5s.
	// +optional
	pollInterval string,
	// Break deploy locks left by a crashed run.
	// +optional
	breakLock bool,
) (*Environment, error) {
	e := &Environment{M: m, Name: name, Project: project, File: file, Timeout: timeout, PollInterval: pollInterval, BreakLock: breakLock}
	d := map[string]string{}
	if timeout != "" {
		d["--timeout"] = timeout
	}
	if pollInterval != "" {
		d["--poll-interval"] = pollInterval
	}
	if _, err := parseDurations(d); err != nil {
		return nil, err
	}
	return e, nil
}

// read parses the environment and returns it with the settings it implies:
// a copy of the module's settings with the file's region, releases and
// role (flags given before env win).
func (e *Environment) read(ctx context.Context) (*envfile.Environment, *Esteira, error) {
	data, err := e.Project.File(e.File).Contents(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s in the project (create it, or pass --file): %s", e.File, why(err))
	}
	env, err := envfile.Parse(e.File, []byte(data), e.Name)
	if err != nil {
		return nil, nil, err
	}
	in := *e.M
	if in.Region == "" {
		in.Region = env.Region
	}
	if in.ReleaseBucket == "" {
		in.ReleaseBucket, in.ReleasePrefix = env.ReleaseBucket, orDefault(env.ReleasePrefix, in.ReleasePrefix)
	}
	in.Role, in.RoleSession = env.Role, "esteira-"+e.Name
	return env, &in, nil
}

// timing is the environment's timeout and poll interval: the flag, else
// the file's value, else def.
func (e *Environment) timing(fileTimeout, filePoll, def string) (string, string) {
	return orDefault(e.Timeout, orDefault(fileTimeout, def)), orDefault(e.PollInterval, orDefault(filePoll, "5s"))
}

// The environment's backend, with every setting of the file (services, container, migration, snapshot).
func (e *Environment) Backend(ctx context.Context) (*Backend, error) {
	env, in, err := e.read(ctx)
	if err != nil {
		return nil, err
	}
	if env.Backend == nil {
		return nil, fmt.Errorf("environment %s has no backend in %s", e.Name, e.File)
	}
	return e.backend(ctx, env, in)
}

func (e *Environment) backend(ctx context.Context, env *envfile.Environment, in *Esteira) (*Backend, error) {
	b := env.Backend
	timeout, poll := e.timing(b.Timeout, b.PollInterval, "15m")
	out := &Backend{M: in, Cluster: b.Cluster, Services: b.Services, Container: b.Container, Timeout: timeout, PollInterval: poll,
		FailureThreshold: orDefaultInt(b.FailureThreshold, 3), BreakLock: e.BreakLock, LockStaleAfter: orDefault(b.LockStaleAfter, "1h"),
		MigrateCommand: b.Migrate, Redact: b.Redact, SnapshotDB: b.SnapshotDB, SnapshotKeep: orDefaultInt(b.SnapshotKeep, 10)}
	if s := b.Strategy; s.Type != "" {
		strategy, err := json.Marshal(ecsdeploy.Strategy{Name: s.Type, Percent: s.Percent, Alarms: s.Alarms,
			BakeMinutes: int32Of(s.BakeMinutes), StepBakeMinutes: int32Of(s.StepBakeMinutes)})
		if err != nil {
			return nil, err
		}
		out.Strategy = string(strategy)
	}
	if len(b.CodeDeploy) > 0 {
		groups, err := json.Marshal(b.CodeDeploy)
		if err != nil {
			return nil, err
		}
		out.CodeDeploy = string(groups)
	}
	defs, err := fileDefinitions(ctx, e.Project, b)
	if err != nil || len(defs) == 0 {
		return out, err
	}
	return out.withDefinitions(defs)
}

// The environment's static site, with every setting of the file (atomic, cache rules, limits included).
func (e *Environment) Site(ctx context.Context) (*Site, error) {
	env, in, err := e.read(ctx)
	if err != nil {
		return nil, err
	}
	if env.Frontend == nil {
		return nil, fmt.Errorf("environment %s has no frontend in %s", e.Name, e.File)
	}
	return e.site(env, in), nil
}

func (e *Environment) site(env *envfile.Environment, in *Esteira) *Site {
	f := env.Frontend
	maxDelete := 1000
	if f.MaxDelete != nil {
		maxDelete = *f.MaxDelete
	}
	return &Site{M: in, Bucket: f.Bucket, Prefix: f.Prefix, BackupBucket: f.BackupBucket, Atomic: f.Atomic,
		KeyValueStore: f.KeyValueStore, PointerKey: f.PointerKey, DistributionID: f.DistributionID, BreakLock: e.BreakLock,
		Keep: f.Keep, MaxDelete: maxDelete, CacheControl: f.CacheControl, Precompress: f.Precompress, Concurrency: f.Concurrency,
		Via: "env --name " + e.Name + " site"}
}

// One Lambda function of the environment, with its alias and timing from the file.
func (e *Environment) Lambda(
	ctx context.Context,
	// The function, one of the environment's functions.
	name string,
) (*LambdaFunction, error) {
	env, in, err := e.read(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range env.Functions {
		if f.Name == name {
			return e.function(f, in), nil
		}
		names = append(names, f.Name)
	}
	return nil, fmt.Errorf("function %q is not one of environment %s's functions [%s] (%s)", name, e.Name, strings.Join(names, ", "), e.File)
}

func (e *Environment) function(f *envfile.Function, in *Esteira) *LambdaFunction {
	timeout, poll := e.timing(f.Timeout, f.PollInterval, "5m")
	return &LambdaFunction{M: in, Name: f.Name, Alias: orDefault(f.Alias, "live"), Timeout: timeout, PollInterval: poll, BreakLock: e.BreakLock}
}

// Show what runs where in the environment: services, site, functions, releases, locks.
//
// +cache="session"
func (e *Environment) Status(
	ctx context.Context,
	// Output: text, for a person, or json.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	if format != "text" && format != "json" {
		return "", fmt.Errorf("--format %q: use text or json", format)
	}
	env, in, err := e.read(ctx)
	if err != nil {
		return "", err
	}
	s, err := in.aws(ctx)
	if err != nil {
		return "", err
	}
	where := envrelease.Where{}
	if b := env.Backend; b != nil {
		where.Cluster, where.Container, where.Services = b.Cluster, b.Container, b.Services
	}
	if env.Frontend != nil {
		where.Site = e.site(env, in).target()
	}
	for _, f := range env.Functions {
		where.Functions = append(where.Functions, envrelease.FunctionRef{Name: f.Name, Alias: f.Alias})
	}
	st, err := envrelease.ReadStatus(ctx, envrelease.Clients{ECS: ecsClients(s), Lambda: lambdaClients(s)}, s.releases(), where)
	if err != nil {
		return "", err
	}
	if format == "text" {
		return fmt.Sprintf("environment %s\n\n%s", e.Name, st.Text()), nil
	}
	out, err := json.MarshalIndent(st, "", "  ")
	return string(out), err
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orDefaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// int32Of is n as an int32, kept within int32's range (the engine then
// says a value too large is out of ECS's range); nil stays nil.
func int32Of(n *int) *int32 {
	if n == nil {
		return nil
	}
	v := int32(max(math.MinInt32, min(*n, math.MaxInt32)))
	return &v
}
