package envfile

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// TaskDefinition is what a release changes in a service's task definition
// beside the image (the engine's ecsdeploy.Definition, as the file says
// it). Environment and Secrets are the release's container's; a nil value
// (NAME: null) removes the name. Both merge by name over the live
// definition: a name the file does not give keeps its live value.
type TaskDefinition struct {
	Environment map[string]*string
	Secrets     map[string]*string // NAME: a Secrets Manager ARN, or an SSM parameter's name or ARN
	CPU, Memory string
	// Containers are the other containers (sidecars), by name.
	Containers map[string]*Container
	// File is a whole task definition (register-task-definition JSON,
	// {{image}} for the release's image), inside the project; nothing
	// above may be given with it.
	File string
}

// Container is what a release changes in another container.
type Container struct {
	// Image is ReleaseImage (the release's own) or a reference by digest.
	Image                string
	Environment, Secrets map[string]*string
}

// ReleaseImage, as a container's image, is the image being released.
const ReleaseImage = "release"

// IsZero reports whether the definition changes nothing.
func (t *TaskDefinition) IsZero() bool {
	return t == nil || (len(t.Environment) == 0 && len(t.Secrets) == 0 && t.CPU == "" && t.Memory == "" && len(t.Containers) == 0 && t.File == "")
}

// Override is the TaskDefinition for one service: its keys are merged over
// the backend's (a name given in both takes the service's value).
func (t *TaskDefinition) Override(svc *TaskDefinition) *TaskDefinition {
	if svc.IsZero() {
		return t
	}
	if t.IsZero() || svc.File != "" { // a service's own file is its whole definition
		return svc
	}
	out := &TaskDefinition{
		Environment: mergeMaps(t.Environment, svc.Environment), Secrets: mergeMaps(t.Secrets, svc.Secrets),
		CPU: or(svc.CPU, t.CPU), Memory: or(svc.Memory, t.Memory), File: or(svc.File, t.File),
		Containers: map[string]*Container{},
	}
	for name, c := range t.Containers {
		out.Containers[name] = c
	}
	for name, c := range svc.Containers {
		base := out.Containers[name]
		if base == nil {
			base = &Container{}
		}
		out.Containers[name] = &Container{Image: or(c.Image, base.Image),
			Environment: mergeMaps(base.Environment, c.Environment), Secrets: mergeMaps(base.Secrets, c.Secrets)}
	}
	return out
}

func mergeMaps(a, b map[string]*string) map[string]*string {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := map[string]*string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var (
	envName        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	parameterPath  = regexp.MustCompile(`^/?[A-Za-z0-9_.\-/]+$`)
	imageByDigest  = regexp.MustCompile(`^[^\s@]+@sha256:[0-9a-f]{64}$`)
	containerLabel = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
)

// taskDefinition are the keys of a task definition, for the backend and
// for each service's override.
func (p *parser) taskDefinition(t *TaskDefinition) map[string]func(*yaml.Node, string) {
	return map[string]func(*yaml.Node, string){
		"environment": p.variables(&t.Environment), "secrets": p.secrets(&t.Secrets),
		"cpu": p.size(&t.CPU), "memory": p.size(&t.Memory),
		"containers": func(n *yaml.Node, key string) {
			t.Containers = map[string]*Container{}
			p.eachKey(n, key, containerLabel, "a container name (letters, digits, - and _)", func(name string, v *yaml.Node, k string) {
				c := &Container{}
				p.mapping(v, k+".", map[string]func(*yaml.Node, string){
					"image": p.containerImage(&c.Image), "environment": p.variables(&c.Environment), "secrets": p.secrets(&c.Secrets),
				})
				t.Containers[name] = c
			})
		},
		"taskDefinition": p.inside(&t.File, "a JSON file inside the project, relative to the file"),
	}
}

// checkTaskDefinition refuses a whole-definition file beside changes to
// the live one: the file is the whole definition.
func (p *parser) checkTaskDefinition(n *yaml.Node, key string, t *TaskDefinition) {
	if t.File != "" && (len(t.Environment) > 0 || len(t.Secrets) > 0 || t.CPU != "" || t.Memory != "" || len(t.Containers) > 0) {
		p.fail(n, key+".taskDefinition", "is the whole task definition: put environment, secrets, cpu, memory and containers in %s, not beside it", t.File)
	}
}

// eachKey walks a mapping whose keys are names the caller gives meaning to.
func (p *parser) eachKey(n *yaml.Node, key string, name *regexp.Regexp, what string, f func(string, *yaml.Node, string)) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.fail(n, key, "must be a mapping of names to values")
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := key + "." + k.Value
		switch {
		case !name.MatchString(k.Value):
			p.fail(k, sub, "%q is not %s", k.Value, what)
		case !p.twice(seen, k, sub):
			f(k.Value, v, sub)
		}
	}
}

// variables are NAME: value pairs; null removes the name.
func (p *parser) variables(dst *map[string]*string) func(*yaml.Node, string) {
	return p.pairs(dst, func(n *yaml.Node, key string) bool { return !p.notString(n, key) })
}

// secrets are NAME: valueFrom pairs; null removes the name.
func (p *parser) secrets(dst *map[string]*string) func(*yaml.Node, string) {
	return p.pairs(dst, func(n *yaml.Node, key string) bool {
		if p.notString(n, key) {
			return false
		}
		if why := CheckSecretRef(n.Value); why != "" {
			p.fail(n, key, "%s", why)
			return false
		}
		return true
	})
}

// CheckSecretRef says why v cannot be a secret's valueFrom, or "" when it
// can: a Secrets Manager secret ARN, or an SSM parameter's name or ARN.
func CheckSecretRef(v string) string {
	switch {
	case strings.HasPrefix(v, "arn:aws:secretsmanager:") && strings.Contains(v, ":secret:"),
		strings.HasPrefix(v, "arn:aws:ssm:") && strings.Contains(v, ":parameter/"),
		!strings.HasPrefix(v, "arn:") && parameterPath.MatchString(v) && !strings.Contains(v, "//"):
		return ""
	}
	return fmt.Sprintf("%q is neither a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) nor an SSM parameter (/path/name or its ARN): give where the value is, never the value", v)
}

func (p *parser) pairs(dst *map[string]*string, ok func(*yaml.Node, string) bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		*dst = map[string]*string{}
		p.eachKey(n, key, envName, "an environment variable name (letters, digits and _, not starting with a digit)", func(name string, v *yaml.Node, k string) {
			switch {
			case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
				(*dst)[name] = nil
			case v.Kind != yaml.ScalarNode:
				p.fail(v, k, "must be a string (or null, to remove %s)", name)
			case ok(v, k):
				s := v.Value
				(*dst)[name] = &s
			}
		})
	}
}

// size is a task's cpu or memory as ECS takes it: units (512, "1024") or
// with its unit ("1 vCPU", "2 GB").
func (p *parser) size(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!str") || strings.TrimSpace(n.Value) == "" {
			p.fail(n, key, "must be a number like 512, or a string like \"1 vCPU\" or \"2 GB\"")
			return
		}
		*dst = n.Value
	}
}

// containerImage is "release" or an image by digest: a tag would make the
// revision run whatever the tag points to when a task starts.
func (p *parser) containerImage(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		var v string
		p.str(&v)(n, key)
		if v == "" {
			return
		}
		if v != ReleaseImage && !imageByDigest.MatchString(v) {
			p.fail(n, key, "%q: give %q (the release's own image) or an image by digest (repo@sha256:...), so the revision runs exactly that image", v, ReleaseImage)
			return
		}
		*dst = v
	}
}

// overrides are per-service task definitions; each service must be one
// of the backend's.
func (p *parser) overrides(b *Backend) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		b.Overrides = map[string]*TaskDefinition{}
		p.eachKey(n, key, containerLabel, "a service name", func(name string, v *yaml.Node, k string) {
			t := &TaskDefinition{}
			p.mapping(v, k+".", p.taskDefinition(t))
			p.checkTaskDefinition(v, k, t)
			b.Overrides[name] = t
			p.overridesMet = append(p.overridesMet, override{service: name, key: k, n: v})
		})
	}
}

// checkOverrides refuses an override of a service the backend does not
// release, once the whole backend is read (services may come after).
func (p *parser) checkOverrides(b *Backend) {
	defer func() { p.overridesMet = nil }()
	if len(b.Services) == 0 {
		return // "services is required" says it
	}
	for _, o := range p.overridesMet {
		if !slices.Contains(b.Services, o.service) {
			p.fail(o.n, o.key, "%s is not one of the backend's services (%s)", o.service, strings.Join(b.Services, ", "))
		}
	}
}
