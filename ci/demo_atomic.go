package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
)

const demoAtomicPrefix = "atomic"

// atomic releases the frontend atomically: a release, one whose switch the
// sandbox fails (visitors must stay on the first), a second release, and a
// rollback that is one switch of the pointer back.
func (d *demo) atomic(ctx context.Context) error {
	first, err := d.deployAtomic(ctx, "")
	if err != nil {
		return err
	}
	if err := d.pointerIs(ctx, first.ID); err != nil {
		return err
	}
	say("OK: release %s built in %s/%s/%s/ and made live by one switch of the pointer in %s", first.ID, sandbox.SiteBucket, demoAtomicPrefix, first.ID, sandbox.KeyValueStore)

	say("scripting the sandbox: the KeyValueStore refuses the next switch")
	if err := control.SetKeyValueStoreFaults(ctx, d.endpoint, []awssim.KVSFault{{Operation: "PutKey", Count: 1, Code: "AccessDeniedException"}}); err != nil {
		return err
	}
	_, err = d.deployAtomic(ctx, "demo: a release whose switch fails")
	if ferr := control.SetKeyValueStoreFaults(ctx, d.endpoint, nil); ferr != nil {
		return ferr
	}
	if err == nil {
		return errors.New("the release whose switch the sandbox refused succeeded")
	}
	say("the release failed, as it should: %s", firstLine(err.Error()))
	if err := d.pointerIs(ctx, first.ID); err != nil {
		return err
	}
	say("OK: visitors never left release %s: the pointer was not switched and the unused folder is gone", first.ID)

	second, err := d.deployAtomic(ctx, "demo: the second atomic release")
	if err != nil {
		return err
	}
	say("OK: release %s is live: %d file uploaded, %d copied server-side from release %s", second.ID, second.Frontend.Uploaded, second.Frontend.Skipped, first.ID)
	site, err := d.atomicSite()
	if err != nil {
		return err
	}
	out, err := site.Rollback(ctx, "", 64, false)
	if err != nil {
		return err
	}
	var rec release.Record
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Frontend == nil {
		return fmt.Errorf("site rollback returned no release record: %v", err)
	}
	if err := d.pointerIs(ctx, first.ID); err != nil {
		return err
	}
	say("OK: site rollback switched the pointer back to release %s in %s: nothing copied", first.ID, rec.Steps[len(rec.Steps)-1].Duration)
	return nil
}

// deployAtomic releases the frontend (with a news.txt of text, when set)
// to the atomic prefix and returns its record.
func (d *demo) deployAtomic(ctx context.Context, news string) (*release.Record, error) {
	src := d.frontend
	if news != "" {
		src = src.WithNewFile("src/news.txt", news+"\n")
	}
	site, err := d.atomicSite()
	if err != nil {
		return nil, err
	}
	dist, err := d.m.BuildFrontend(ctx, src, "node:22-bookworm-slim", "npm run build", "dist")
	if err != nil {
		return nil, err
	}
	out, err := site.Deploy(ctx, dist, 0, -1, "", nil, 0, false, false)
	if err != nil {
		return nil, err
	}
	var rec release.Record
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Frontend == nil {
		return nil, fmt.Errorf("site deploy returned no release record: %v", err)
	}
	return &rec, nil
}

// atomicSite is the site released atomically (the sandbox's KeyValueStore by default).
func (d *demo) atomicSite() (*Site, error) {
	return d.m.Site(sandbox.SiteBucket, demoAtomicPrefix, "", true, "", "", "", false)
}

func (d *demo) pointerIs(ctx context.Context, id string) error {
	keys, err := control.KeyValueStoreKeys(ctx, d.endpoint, sandbox.KeyValueStore)
	if err != nil {
		return err
	}
	if got := keys[sandbox.SiteBucket+"/"+demoAtomicPrefix]; got != id {
		return fmt.Errorf("the live pointer names %q, not release %s", got, id)
	}
	return nil
}
