package envfile

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The settings below are the ones an object of the Dagger module takes
// (backend, site, function): every one can be given in the file, so an
// environment can do whatever the objects do.

// BackendSettings are the backend object's release settings.
type BackendSettings struct {
	Timeout, PollInterval, LockStaleAfter string // durations like 15m; "" is the default
	FailureThreshold                      int
	Redact                                []string // names whose values the migration command hides
	// Strategy is how ECS must deploy the services, with its settings
	// (see Strategy).
	Strategy Strategy
}

// FrontendSettings are the site object's settings.
type FrontendSettings struct {
	// Atomic releases to a folder of its own and switches the live pointer
	// (KeyValueStore's PointerKey); no backup bucket is needed then.
	Atomic                    bool
	KeyValueStore, PointerKey string
	// MaxDelete, when set, replaces the limit of 1000 deletes a release may make (0: none).
	MaxDelete    *int
	CacheControl string
	Precompress  []string
	Concurrency  int
}

// FunctionSettings are the function object's timing.
type FunctionSettings struct {
	Timeout, PollInterval string
}

func (p *parser) backendSettings(s *BackendSettings) map[string]func(*yaml.Node, string) {
	return map[string]func(*yaml.Node, string){
		"timeout": p.duration(&s.Timeout), "pollInterval": p.duration(&s.PollInterval), "lockStaleAfter": p.duration(&s.LockStaleAfter),
		"failureThreshold": p.count(&s.FailureThreshold), "redact": p.list(&s.Redact),
		"strategy": p.strategy(&s.Strategy),
	}
}

func (p *parser) frontendSettings(s *FrontendSettings) map[string]func(*yaml.Node, string) {
	return map[string]func(*yaml.Node, string){
		"atomic": p.boolean(&s.Atomic), "keyValueStore": p.str(&s.KeyValueStore), "pointerKey": p.str(&s.PointerKey),
		"maxDelete": p.atLeastZero(&s.MaxDelete), "cacheControl": p.str(&s.CacheControl), "precompress": p.list(&s.Precompress),
		"concurrency": p.count(&s.Concurrency),
	}
}

func (p *parser) functionSettings(s *FunctionSettings) map[string]func(*yaml.Node, string) {
	return map[string]func(*yaml.Node, string){"timeout": p.duration(&s.Timeout), "pollInterval": p.duration(&s.PollInterval)}
}

// merge adds the keys of more to known.
func merge(known map[string]func(*yaml.Node, string), more map[string]func(*yaml.Node, string)) map[string]func(*yaml.Node, string) {
	for k, v := range more {
		known[k] = v
	}
	return known
}

// duration is a positive duration like 15m.
func (p *parser) duration(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		d, err := time.ParseDuration(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil || d <= 0 {
			p.fail(n, key, "must be a positive duration like 90s, 15m or 1h")
			return
		}
		*dst = n.Value
	}
}

func (p *parser) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		v, err := strconv.ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || err != nil { // "false" quoted, or 1, is not a YAML boolean
			p.fail(n, key, "must be true or false")
			return
		}
		*dst = v
	}
}

// atLeastZero is a whole number of 0 or more.
func (p *parser) atLeastZero(dst **int) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		v, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || v < 0 {
			p.fail(n, key, "must be a whole number of 0 or more")
			return
		}
		*dst = &v
	}
}

// oneOf reads a string that must be one of choices.
func (p *parser) oneOf(dst *string, choices []string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		var v string
		p.str(&v)(n, key)
		if v == "" {
			return
		}
		if !slices.Contains(choices, v) {
			p.fail(n, key, "%q: choose one of %s", v, strings.Join(choices, ", "))
			return
		}
		*dst = v
	}
}
