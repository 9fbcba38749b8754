package main

import (
	"context"
	"fmt"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
)

// table lists the records of every release the demo made, read back from
// the release store: the services', the sites', the function's and the
// environments'.
func (d *demo) table(ctx context.Context) (string, error) {
	store := d.s.releases()
	var recs []*release.Record
	for _, of := range []struct{ kind, target string }{
		{release.KindBackend, sandbox.Cluster + "/" + sandbox.Service},
		{release.KindBackend, sandbox.Cluster + "/" + sandbox.Worker},
		{release.KindBackend, sandbox.Cluster + "/" + sandbox.BlueGreen},
		{release.KindLambda, sandbox.Function},
		{release.KindEnvironment, "staging"},
		{release.KindEnvironment, "production"},
		{release.KindEnvironment, demoBlueGreenEnv},
		{release.KindFrontend, sandbox.SiteBucket + "/" + demoPrefix},
		{release.KindFrontend, sandbox.SiteBucket + "/" + demoAtomicPrefix},
	} {
		list, err := store.List(ctx, of.kind, of.target)
		if err != nil {
			return "", fmt.Errorf("list the %s releases of %s: %w", of.kind, of.target, err)
		}
		recs = append(recs, list...)
	}
	return fmt.Sprintf("esteira demo: %d drills, every one ended where it should (%s)\n\n%s",
		d.n, time.Now().UTC().Format(time.RFC3339), sandbox.Table(recs)), nil
}
