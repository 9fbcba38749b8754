package envfile

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Strategy is how ECS must deploy a backend's services: a name alone
// (`strategy: canary`) or the name with its settings
// (`strategy: {type: canary, percent: 10, stepBakeMinutes: 5, alarms: [web-5xx]}`). The
// ranges ECS takes are checked by the release, before any change.
type Strategy struct {
	// Type is rolling, blue-green, linear or canary; "": whatever each
	// service is set to.
	Type string
	// BakeMinutes is how long blue and green both run once production
	// traffic has moved.
	BakeMinutes *int
	// Percent is the canary's share of production traffic, or each linear
	// step's.
	Percent *float64
	// StepBakeMinutes is how long the canary, or each linear step, bakes.
	StepBakeMinutes *int
	// Alarms are the CloudWatch alarms ECS watches during the deployment
	// and rolls it back on, in place of the service's.
	Alarms []string
}

// Strategies are the deployment strategies a backend may name.
var Strategies = []string{"rolling", "blue-green", "linear", "canary"}

// strategy reads a strategy's name, or a mapping of its type and settings.
func (p *parser) strategy(dst *Strategy) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind != yaml.MappingNode {
			p.oneOf(&dst.Type, Strategies)(n, key)
			return
		}
		p.mapping(n, key+".", map[string]func(*yaml.Node, string){
			"type": p.oneOf(&dst.Type, Strategies), "bakeMinutes": p.atLeastZero(&dst.BakeMinutes),
			"percent": p.percent(&dst.Percent), "stepBakeMinutes": p.atLeastZero(&dst.StepBakeMinutes),
			"alarms": p.list(&dst.Alarms),
		}, "type")
	}
}

// percent is a number above 0 and at most 100, like 10 or 2.5.
func (p *parser) percent(dst **float64) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		v, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || err != nil || v <= 0 || v > 100 {
			p.fail(n, key, "must be a percentage above 0 and at most 100, like 10 or 2.5")
			return
		}
		*dst = &v
	}
}
