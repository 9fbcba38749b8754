package envfile

import (
	"slices"

	"go.yaml.in/yaml/v3"
)

// CodeDeployGroup names the CodeDeploy application and deployment group
// that deploy a service whose deployment controller is CODE_DEPLOY.
type CodeDeployGroup struct {
	Application, DeploymentGroup string
}

// codeDeploy reads backend.codeDeploy: each CodeDeploy service of the
// backend, by name, to its application and deployment group.
func (p *parser) codeDeploy(b *Backend) func(*yaml.Node, string) {
	return func(n *yaml.Node, key string) {
		if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
			p.fail(n, key, "must map each service deployed by CodeDeploy to its {application, deploymentGroup}")
			return
		}
		b.CodeDeploy = map[string]CodeDeployGroup{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			svc, v := n.Content[i], n.Content[i+1]
			var g CodeDeployGroup
			p.mapping(v, key+"."+svc.Value+".", map[string]func(*yaml.Node, string){
				"application": p.str(&g.Application), "deploymentGroup": p.str(&g.DeploymentGroup),
			}, "application", "deploymentGroup")
			b.CodeDeploy[svc.Value] = g
		}
	}
}

// checkCodeDeploy refuses a CodeDeploy group for a service the backend
// does not release.
func (p *parser) checkCodeDeploy(n *yaml.Node, key string, b *Backend) {
	for svc := range b.CodeDeploy {
		if !slices.Contains(b.Services, svc) {
			p.fail(n, key+".codeDeploy."+svc, "is not one of the backend's services (%v): name a service it releases", b.Services)
		}
	}
}
