package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// Deploy publishes o.Dir to the site: lock → plan → backup (verified) →
// publish (assets, HTML, index.html, then deletes) → verify → on failure
// restore the backup and verify it → invalidate → record. The returned
// record is non-nil whenever the options were valid, also on error.
func Deploy(ctx context.Context, c Clients, o Options) (*release.Record, error) {
	if c.S3 == nil {
		return nil, errors.New("no S3 client: pass Clients.S3")
	}
	return deployWith(ctx, newS3Store(c.S3, o.PartSize), c.CloudFront, c.KeyValueStore, o)
}

// Plan computes what Deploy would upload, skip and delete and changes
// nothing. It prints progress to o.Out; the plan itself is the result
// (print p.String() to stdout).
func Plan(ctx context.Context, c Clients, o Options) (*SitePlan, error) {
	if c.S3 == nil {
		return nil, errors.New("no S3 client: pass Clients.S3")
	}
	o, err := o.withDefaults(false)
	if err != nil {
		return nil, err
	}
	st := newS3Store(c.S3, o.PartSize)
	files, err := scanBuild(ctx, o)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	p, stats, err := planSite(ctx, st, newLocation(o.Bucket, o.Prefix), files, o.Concurrency)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "==> plan       ok (%s) %d files; %s\n", time.Since(started).Round(time.Millisecond), len(files), stats)
	return p, nil
}

// run is one Deploy or Rollback: its record and its progress output.
type run struct {
	rec *release.Record
	out io.Writer
	g   *release.Guard // once the run took its lock: writes the record
}

func newRun(kind string, site location, prior []release.Step, out io.Writer) *run {
	now := time.Now()
	rec := &release.Record{ID: release.NewID(now), Kind: kind, Target: target(site), StartedAt: now,
		Steps: append([]release.Step(nil), prior...)}
	return &run{rec: rec, out: out}
}

// step records a finished step and prints one line for it.
func (r *run) step(name string, started time.Time, err error, detail string) {
	r.rec.Step(name, started, err, detail)
	release.PrintStep(r.out, name, time.Since(started), err, detail)
}

// stepTook is step for a step that ran concurrently with others and took
// took from started.
func (r *run) stepTook(name string, started time.Time, took time.Duration, err error, detail string) {
	r.rec.Step(name, started, err, detail)
	r.rec.Steps[len(r.rec.Steps)-1].Duration = took
	release.PrintStep(r.out, name, took, err, detail)
}

// finish sets the outcome and the error text.
func (r *run) finish(outcome string, err error) {
	r.rec.Outcome, r.rec.FinishedAt = outcome, time.Now()
	if err != nil {
		r.rec.Error = err.Error()
	}
}

func scanBuild(ctx context.Context, o Options) ([]localFile, error) {
	cm, err := newCacheMatcher(o.CacheControl)
	if err != nil {
		return nil, err
	}
	return scanDir(ctx, o.Dir, cm, o.Precompress, o.Concurrency, o.report())
}

// planSite lists the site, resolves its content hashes and diffs the build.
func planSite(ctx context.Context, st objectStore, site location, files []localFile, conc int) (*SitePlan, resolveStats, error) {
	remote, stats, err := readRemote(ctx, st, site, conc)
	if err != nil {
		return nil, stats, err
	}
	return buildPlan(site, files, remote), stats, nil
}

// readRemote lists the site and resolves its content hashes.
func readRemote(ctx context.Context, st objectStore, site location, conc int) (remoteSet, resolveStats, error) {
	remote, err := listLocation(ctx, st, site)
	if err != nil {
		return nil, resolveStats{}, err
	}
	if err := checkNoneEnclosed(site, remote); err != nil {
		return nil, resolveStats{}, err
	}
	stats, err := resolveHashes(ctx, st, site, remote, conc)
	return remote, stats, err
}

// record ends the run with err: once the run holds its lock, its guard
// writes the record (while the lock is still held) and releases the lock;
// a record that cannot be written is reported and noted in the lock.
func record(ctx context.Context, r *run, err error) error {
	if r.g == nil {
		return err
	}
	_, err = r.g.Finish(ctx, r.rec.Outcome, err)
	return err
}
