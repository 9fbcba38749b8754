package envfile

import (
	"fmt"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Service is a container a backend's tests reach by its name (a database,
// a queue, a fake of another API), started beside the tests and stopped
// after them.
type Service struct {
	// Name is the hostname the tests reach it by.
	Name  string
	Image string
	// Ports are the ports it listens on: only these are reachable, and the
	// tests start once they answer.
	Ports []int
	// Environment are plain values; a secret does not belong in a test's service.
	Environment map[string]string
	// Command replaces the image's command (its entrypoint is kept), as
	// compose's command does; empty runs the image's own.
	Command []string
}

// dnsLabel is a hostname of one label (RFC 1123): what a test resolves.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func (p *parser) services(dst *[]Service) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			p.fail(n, key, "must be a non-empty list of {name, image, ports}")
			return
		}
		seen := map[string]int{}
		for i, item := range n.Content {
			ik := fmt.Sprintf("%s[%d]", key, i)
			var s Service
			p.mapping(item, ik+".", map[string]func(*yaml.Node, string){
				"name": p.str(&s.Name), "image": p.str(&s.Image), "ports": p.ports(&s.Ports),
				"environment": p.strmap(&s.Environment), "command": p.words(&s.Command),
			}, "name", "image", "ports")
			switch line, twice := seen[s.Name]; {
			case s.Name == "":
			case !dnsLabel.MatchString(s.Name):
				p.fail(item, ik+".name", "%q is the hostname the tests reach it by: use lower-case letters, digits and - (not first or last), at most 63, e.g. db", s.Name)
			case twice:
				p.fail(item, ik+".name", "%s is given twice (first at line %d): each service needs its own hostname", s.Name, line)
			default:
				seen[s.Name] = item.Line
			}
			*dst = append(*dst, s)
		}
	}
}

// ports is a non-empty list of TCP ports.
func (p *parser) ports(dst *[]int) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			p.fail(n, key, "must be a non-empty list of the ports the service listens on, e.g. [5432]: the tests can reach only these, and start once they answer")
			return
		}
		for i, item := range n.Content {
			v, err := strconv.Atoi(item.Value)
			if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!int" || err != nil || v < 1 || v > 65535 {
				p.fail(item, fmt.Sprintf("%s[%d]", key, i), "must be a port number from 1 to 65535")
				continue
			}
			*dst = append(*dst, v)
		}
	}
}

// words is a command as a list of words; a single string is refused with
// the list to write instead (which words a shell line splits into is the
// shell's business: [sh, -c, "..."]).
func (p *parser) words(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind == yaml.ScalarNode {
			p.fail(n, key, "must be a list of words, e.g. [python3, -m, http.server, \"8000\"], or [sh, -c, %q] for a shell line", n.Value)
			return
		}
		p.list(dst)(n, key)
	}
}
