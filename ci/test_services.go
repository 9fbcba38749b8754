package main

import (
	"maps"
	"slices"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/envfile"
)

// withServices binds each service of esteira.yaml's backend.test to the
// test container under its name, the hostname the tests reach it by. The
// engine starts each one before the tests run, waits until its ports
// answer, and stops it after them.
func withServices(c *dagger.Container, services []envfile.Service) *dagger.Container {
	for _, s := range services {
		c = c.WithServiceBinding(s.Name, testService(s))
	}
	return c
}

// testService is the service's container: its image, plain environment
// and ports, running its command after the image's entrypoint (compose's
// command), or the image's own command without one.
func testService(s envfile.Service) *dagger.Service {
	ctr := dag.Container().From(s.Image)
	for _, name := range slices.Sorted(maps.Keys(s.Environment)) {
		ctr = ctr.WithEnvVariable(name, s.Environment[name])
	}
	for _, port := range s.Ports {
		ctr = ctr.WithExposedPort(port)
	}
	return ctr.AsService(dagger.ContainerAsServiceOpts{Args: s.Command, UseEntrypoint: true})
}
