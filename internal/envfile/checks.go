package envfile

import (
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Test says how a backend's tests run, when the source's own preset (go
// test, npm test, pytest) is not what the team runs: a Dockerfile stage
// whose build is the test, or a command in an image; and the services the
// tests reach by hostname (not with a stage: a build reaches no service).
type Test struct {
	Target         string // Dockerfile stage
	Image, Command string
	Services       []Service
}

// Check is one check run on the source before anything is pushed (a
// linter, an audit, a quality gate's scanner): every check runs, and the
// release stops before the push when one fails.
type Check struct {
	Name, Image, Command string
	// Secrets are the names of the environment variables the check gets
	// as secrets (e.g. SONAR_TOKEN); their values are given to the
	// release, never to the file.
	Secrets []string
}

var checkName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (p *parser) test(dst **Test) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		t := &Test{}
		services := n
		p.mapping(n, key+".", map[string]func(*yaml.Node, string){
			"target": p.str(&t.Target), "image": p.str(&t.Image), "command": p.str(&t.Command),
			"services": func(sn *yaml.Node, k string) { services = sn; p.services(&t.Services)(sn, k) },
		})
		switch {
		case t.Target != "" && (t.Image != "" || t.Command != ""):
			p.fail(n, key, "give target (a Dockerfile stage whose build is the test) or image and command, not both")
		case t.Image != "" && t.Command == "":
			p.fail(n, key+".command", "is required with image: what to run in it, e.g. \"npm ci && npm test\"")
		case t.Target != "" && len(t.Services) > 0:
			p.fail(services, key+".services", "cannot be reached from a Dockerfile stage (target): a build reaches no service; "+
				"run the tests as a command instead (image and command, or the source's preset with no target)")
		case t.Target == "" && t.Command == "" && len(t.Services) == 0 && n.Kind == yaml.MappingNode:
			p.fail(n, key, "give target, or command (with image, or in the source's preset image), or services (for the preset's tests)")
		}
		*dst = t
	}
}

func (p *parser) checks(dst *[]Check) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			p.fail(n, key, "must be a non-empty list of {name, image, command}")
			return
		}
		seen := map[string]int{}
		for i, item := range n.Content {
			ik := fmt.Sprintf("%s[%d]", key, i)
			var c Check
			p.mapping(item, ik+".", map[string]func(*yaml.Node, string){
				"name": p.str(&c.Name), "image": p.str(&c.Image), "command": p.str(&c.Command),
				"secrets": p.secretNames(&c.Secrets),
			}, "name", "image", "command")
			if c.Name == "" {
				continue
			}
			if !checkName.MatchString(c.Name) {
				p.fail(item, ik+".name", "%q: use lower-case letters, digits and -, e.g. lint", c.Name)
				continue
			}
			if line, twice := seen[c.Name]; twice {
				p.fail(item, ik+".name", "%s is given twice (first at line %d): each check needs its own name, the record names it", c.Name, line)
				continue
			}
			seen[c.Name] = item.Line
			*dst = append(*dst, c)
		}
	}
}

// secretNames are the environment variable names of a check's secrets,
// each once.
func (p *parser) secretNames(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		var names []string
		p.list(&names)(n, key)
		if len(names) != len(n.Content) { // list said what is wrong
			return
		}
		seen := map[string]bool{}
		for i, name := range names {
			ik := fmt.Sprintf("%s[%d]", key, i)
			switch {
			case !envName.MatchString(name):
				p.fail(n.Content[i], ik, "%q is not an environment variable name (letters, digits and _, not starting with a digit): the check gets the secret under it, e.g. SONAR_TOKEN", name)
			case seen[name]:
				p.fail(n.Content[i], ik, "%s is given twice", name)
			default:
				seen[name] = true
				*dst = append(*dst, name)
			}
		}
	}
}
