package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// An atomic release never touches what visitors see until it is complete:
// it builds the release in a folder of its own, <prefix>/<release id>/
// (unchanged files copied server-side from the live release's folder, the
// rest uploaded), verifies it, writes its manifest, and only then switches
// the live pointer (pointer.go) with one conditional PutKey. Any failure
// before the switch leaves the pointer, and so the site, on the old
// release; the half-built folder, never visible, is deleted. Rollback is a
// switch of the pointer back to a folder that is still there.

// deployAtomic is Deploy for an atomic site: lock, release, prune, record.
// A dry run plans against the live release and changes nothing.
func deployAtomic(ctx context.Context, r *run, st objectStore, ptr pointer, site location, h *hashing, o Options) (*release.Record, error) {
	if o.DryRun {
		err := planAtomic(ctx, r, st, ptr, site, h, o)
		r.finish("dry-run", err)
		return r.rec, err
	}
	what := fmt.Sprintf("site deploy (atomic) %s, release %s; the live pointer %q switches only once the release is complete", target(site), r.rec.ID, ptr.key)
	unlock, _, err := lock(ctx, r, o.Releases, site, release.Holder{Who: o.Who, What: what}, o.LockStaleAfter, o.BreakLock)
	if err != nil {
		r.finish("failed", err)
		return r.rec, fmt.Errorf("nothing was changed: %w", err)
	}
	defer unlock()
	err = releaseAtomic(ctx, r, st, ptr, site, h, o)
	if o.Keep > 0 && r.rec.Outcome == release.OutcomeSucceeded {
		started := time.Now()
		now := serverNow(ctx, st, site.Bucket, time.Now(), o.Out)
		res, perr := pruneReleases(ctx, st, site, o.Keep, r.rec.Frontend.Release, r.rec.Frontend.Previous, recordsOnce(o.Releases, site), now, false)
		r.step("prune", started, perr, res.String())
		if perr != nil {
			fmt.Fprintf(o.Out, "warning: the release is live, but pruning old releases failed (the site's next prune retries): %v\n", perr)
		}
	}
	return r.rec, record(ctx, r, err)
}

// planAtomic prints what an atomic release would upload and copy.
func planAtomic(ctx context.Context, r *run, st objectStore, ptr pointer, site location, h *hashing, o Options) error {
	p, _, _, err := planAgainstLive(ctx, r, st, ptr, site, h, o)
	if err == nil {
		fmt.Fprint(o.Out, p.String(), "DRY RUN OK: nothing was changed\n")
	}
	return err
}

// planAgainstLive reads the pointer and the live release's folder while
// the build is hashed, and plans the next release against it: the live
// release, the store's ETag a switch must match, and the plan.
func planAgainstLive(ctx context.Context, r *run, st objectStore, ptr pointer, site location, h *hashing, o Options) (p *SitePlan, cur, etag string, err error) {
	started := time.Now()
	cur, etag, err = ptr.read(ctx)
	var remote remoteSet
	var stats resolveStats
	if err == nil && cur != "" {
		remote, stats, err = readRemote(ctx, st, releaseAt(site, cur), o.Concurrency)
	}
	files, herr := h.wait(r, o)
	if herr != nil {
		return nil, cur, etag, herr
	}
	if err == nil {
		p = buildPlan(releaseAt(site, r.rec.ID), files, remote)
	}
	r.step("plan", started, err, atomicPlanText(p, cur, stats))
	return p, cur, etag, err
}

// releaseAtomic runs plan → build → verify → switch and sets the record's
// outcome. Called under the site's lock.
func releaseAtomic(ctx context.Context, r *run, st objectStore, ptr pointer, site location, h *hashing, o Options) error {
	p, cur, etag, err := planAgainstLive(ctx, r, st, ptr, site, h, o)
	fr := r.rec.Frontend
	fr.Previous = cur
	if err != nil {
		r.finish("failed", err)
		return fmt.Errorf("nothing was changed: %w", err)
	}
	next := releaseAt(site, r.rec.ID)
	fr.Skipped = len(p.Skipped)
	if p.Empty() {
		fr.Release = cur
		r.finish(release.OutcomeNoChange, nil)
		fmt.Fprintf(o.Out, "==> nothing to do: the live release %s already equals the build\n", cur)
		return nil
	}
	err = putMarker(ctx, st, site, next, r.rec.ID)
	if err == nil {
		err = buildRelease(ctx, r, st, site, releaseAt(site, cur), next, p, o)
	}
	if err != nil {
		return abandon(ctx, r, st, next, cur, err)
	}
	started := time.Now()
	err = ptr.swap(ctx, etag, r.rec.ID)
	if err != nil {
		// A switch that timed out may still have happened: look before
		// deleting the folder the pointer may now name.
		if now, _, rerr := ptr.read(context.WithoutCancel(ctx)); rerr != nil || now == r.rec.ID {
			if rerr == nil {
				err = nil
			} else {
				err = fmt.Errorf("%w; and reading the pointer back failed (%v), so release %s is left in place: see the site's status, or roll it back", err, rerr, next)
				r.step("switch", started, err, "")
				r.finish("failed", err)
				return err
			}
		}
	}
	r.step("switch", started, err, fmt.Sprintf("%s: %s → %s", ptr.key, orNone(cur), r.rec.ID))
	if err != nil {
		return abandon(ctx, r, st, next, cur, err)
	}
	fr.Release, fr.Uploaded = r.rec.ID, len(p.Upload)
	r.finish(release.OutcomeSucceeded, nil)
	return nil
}

func atomicPlanText(p *SitePlan, cur string, stats resolveStats) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf("%d to upload, %d unchanged (copied server-side from live release %s), %d not carried over; %s",
		len(p.Upload), len(p.Skipped), orNone(cur), len(p.Delete), stats)
}

func orNone(id string) string {
	if id == "" {
		return "(none)"
	}
	return id
}

// buildRelease fills next: the unchanged files copied from the live
// release's folder, the changed ones uploaded; then verifies every path
// and writes next's manifest, naming site, last.
func buildRelease(ctx context.Context, r *run, st objectStore, site, live, next location, p *SitePlan, o Options) error {
	started := time.Now()
	jobs := make([]copyJob, len(p.Skipped))
	for i, rel := range p.Skipped {
		jobs[i] = copyJob{src: live, srcRel: rel, dst: next, dstRel: rel}
	}
	want := make(remoteSet, len(p.files))
	var mu sync.Mutex
	m := o.report().meter("copy", len(jobs))
	err := copyAll(ctx, st, jobs, false, o.Concurrency, m, func(j copyJob, etag string) {
		// The copy holds the live object's bytes and headers, under the
		// ETag the copy got.
		obj := p.remote[j.srcRel]
		obj.Key, obj.ETag = next.key(j.dstRel), etag
		mu.Lock()
		want[j.dstRel] = obj
		mu.Unlock()
	})
	m.stop()
	var res published
	if err == nil {
		// The new folder is not live: no phase order or deletes needed, but
		// publish is the same code path with nothing to delete.
		uploads := *p
		uploads.Delete, uploads.Skipped, uploads.remote = nil, nil, nil
		res, err = publish(ctx, st, next, &uploads, o.Concurrency, o.report())
		for rel, obj := range res.want {
			want[rel] = obj
		}
	}
	r.step("build", started, err, fmt.Sprintf("%d copied, %d of %d uploaded, into %s", len(jobs), res.uploaded, len(p.Upload), next))
	if err != nil {
		return err
	}
	started = time.Now()
	err = verifyChanged(ctx, st, next, want, want.sortedKeys(), nil, sameObject, o.Concurrency, o.report())
	if err == nil {
		err = putManifest(ctx, st, next, manifest{Version: 1, Site: target(site), Taken: time.Now().UTC()}, want)
	}
	r.step("verify", started, err, fmt.Sprintf("%d objects of %s equal the build", len(want), next))
	return err
}

// abandon deletes a release folder that never went live and fails the
// release: the pointer, and so the site, is still on cur.
func abandon(ctx context.Context, r *run, st objectStore, next location, cur string, cause error) error {
	err := fmt.Errorf("the live pointer still names release %s, visitors saw nothing of this one: %w", orNone(cur), cause)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
	defer cancel()
	if derr := deleteFolder(dctx, st, next); derr != nil {
		err = fmt.Errorf("%w; the unused folder %s could not be deleted (%v): its marker names this site, so a prune of the site removes it (at once when this release is recorded, else once it is six hours old)", err, next, derr)
	}
	r.finish(release.OutcomeFailed, err)
	return err
}

// deleteFolder deletes every object under loc: its manifest first (it
// stops being a complete release, a rollback's target), its marker last
// (whatever a failure leaves still says whose folder it is, so a prune
// can finish the job).
func deleteFolder(ctx context.Context, st objectStore, loc location) error {
	if err := st.Delete(ctx, loc.Bucket, []string{loc.manifestKey()}); err != nil {
		return err
	}
	objs, err := st.List(ctx, loc.Bucket, loc.Prefix)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(objs))
	for _, o := range objs {
		if o.Key != markerKey(loc) {
			keys = append(keys, o.Key)
		}
	}
	if err := st.Delete(ctx, loc.Bucket, keys); err != nil {
		return err
	}
	return st.Delete(ctx, loc.Bucket, []string{markerKey(loc)})
}

// errNoPointer is a rollback of an atomic site whose pointer names nothing.
var errNoPointer = errors.New("the live pointer is not set: no atomic release of this site went live")
