package sitepublish

import (
	"context"
	"maps"
	"sync"

	"golang.org/x/sync/errgroup"
)

// published is what a publish did: what the site should now hold, and
// how many uploads and deletes happened (also when it failed part way).
type published struct {
	want              remoteSet
	uploaded, deleted int
}

// phaseNames name the upload phases for guard.
var phaseNames = [...]string{phaseAsset: "the upload of assets", phaseHTML: "the upload of HTML", phaseIndex: "the upload of index.html"}

// publish uploads the plan's files phase by phase (assets, HTML, root
// index.html), then deletes the stale objects; nothing is deleted unless
// every upload succeeded.
func publish(ctx context.Context, st objectStore, site location, p *SitePlan, conc int, rep report) (published, error) {
	return publishGuarded(ctx, st, site, p, conc, rep, func(string) error { return nil })
}

// publishGuarded is publish asking guard before each phase and before the
// deletes (a deploy checks its lock is still its own); a guard that fails
// stops the publish.
func publishGuarded(ctx context.Context, st objectStore, site location, p *SitePlan, conc int, rep report, guard func(step string) error) (published, error) {
	want := make(remoteSet, len(p.files))
	res := published{want: want}
	for _, rel := range p.Skipped {
		want[rel] = p.remote[rel]
	}
	var mu sync.Mutex
	total := 0
	for _, changes := range p.phases() {
		total += len(changes)
	}
	m := rep.meter("upload", total)
	defer m.stop()
	for ph, changes := range p.phases() {
		if len(changes) == 0 {
			continue
		}
		if err := guard(phaseNames[ph]); err != nil {
			return res, err
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(conc)
		for _, c := range changes {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				o, err := uploadFile(gctx, st, site, p.files[c.Path])
				if err != nil {
					return err
				}
				mu.Lock()
				want[c.Path] = o
				res.uploaded++
				m.tick()
				rep.file("    uploaded %s (%s)\n", c.Path, c.Reason)
				mu.Unlock()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return res, err
		}
	}
	if len(p.Delete) > 0 {
		if err := guard("the deletes"); err != nil {
			return res, err
		}
		keys := make([]string, len(p.Delete))
		for i, rel := range p.Delete {
			keys[i] = site.key(rel)
		}
		if err := st.Delete(ctx, site.Bucket, keys); err != nil {
			return res, err
		}
		res.deleted = len(keys)
		for _, rel := range p.Delete {
			rep.file("    deleted %s\n", rel)
		}
	}
	return res, nil
}

func uploadFile(ctx context.Context, st objectStore, site location, f localFile) (object, error) {
	h := f.Headers
	h.Metadata = maps.Clone(h.Metadata)
	if h.Metadata == nil {
		h.Metadata = map[string]string{}
	}
	h.Metadata[metaSHA256] = f.SHA256
	etag, err := st.Put(ctx, site.Bucket, site.key(f.Rel), f.body(), h)
	if err != nil {
		return object{}, err
	}
	return object{Key: site.key(f.Rel), Size: f.Size, ETag: etag, SHA256: f.SHA256, Headers: f.Headers}, nil
}
