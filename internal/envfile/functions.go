package envfile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// BackendImage as a function's image means the image the release built
// for the backend (by digest).
const BackendImage = "backend"

// Function is a Lambda function released with the environment, after the
// services and the site, behind its alias.
type Function struct {
	Name   string
	Alias  string // default "live"
	Source string // folder packaged as the zip, relative to the project root
	Image  string // BackendImage or an image reference, for an image function
	Env    map[string]string
	Canary string // a share like "10%"
	Bake   string // a duration like "10m"
	Alarms []string
	FunctionSettings
}

func (p *parser) functions(n *yaml.Node, key string) []*Function {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.fail(n, key, "must be a non-empty list of functions, e.g. [{name: resize, source: lambda/resize}]")
		return nil
	}
	var out []*Function
	seen := map[string]bool{}
	for i, item := range n.Content {
		k := fmt.Sprintf("%s[%d]", key, i)
		f := &Function{}
		p.mapping(item, k+".", merge(map[string]func(*yaml.Node, string){
			"name": p.str(&f.Name), "alias": p.str(&f.Alias), "source": p.folder(&f.Source), "image": p.str(&f.Image),
			"env": p.strmap(&f.Env), "canary": p.share(&f.Canary), "bake": p.str(&f.Bake), "alarms": p.list(&f.Alarms),
		}, p.functionSettings(&f.FunctionSettings)), "name")
		switch {
		case item.Kind != yaml.MappingNode:
			continue
		case (f.Source == "") == (f.Image == ""):
			p.fail(item, k, "give source (a folder zipped, for a zip function) or image (%q: the backend's, or a reference), one of them", BackendImage)
		case seen[f.Name]:
			p.fail(item, k+".name", "%q is listed twice", f.Name)
		}
		if share, err := strconv.ParseFloat(strings.TrimSuffix(f.Canary, "%"), 64); f.Canary != "" && (err != nil || !strings.HasSuffix(f.Canary, "%") || share <= 0 || share >= 100) {
			p.fail(item, k+".canary", "%q must be a percentage between 0%% and 100%%, e.g. 10%%", f.Canary)
		}
		if d, err := time.ParseDuration(f.Bake); f.Bake != "" && (err != nil || d <= 0) {
			p.fail(item, k+".bake", "%q must be a duration like 10m", f.Bake)
		}
		seen[f.Name] = true
		out = append(out, f)
	}
	return out
}

// strmap is a mapping of names to string values.
func (p *parser) strmap(dst *map[string]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind != yaml.MappingNode {
			p.fail(n, key, "must be a mapping of names to values, e.g. {LOG_LEVEL: info}")
			return
		}
		*dst = map[string]string{}
		first := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if p.twice(first, k, key+"."+k.Value) {
				continue
			}
			if v.Kind != yaml.ScalarNode {
				p.fail(v, key+"."+k.Value, "must be a string")
				continue
			}
			if p.notString(v, key+"."+k.Value) {
				continue
			}
			(*dst)[k.Value] = v.Value
		}
	}
}

// share is a percentage like "10%"; a bare number (10) is kept as written,
// for the percentage check to say what to write instead.
func (p *parser) share(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if t := n.ShortTag(); n.Kind == yaml.ScalarNode && (t == "!!int" || t == "!!float") {
			*dst = n.Value
			return
		}
		p.str(dst)(n, key)
	}
}
