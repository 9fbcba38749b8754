package ecsdeploy

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// newRecord starts a backend record. Cluster and service may be names or
// ARNs; the record and the lock use names, so both spellings share them.
func newRecord(cluster, service string, prior []release.Step) *release.Record {
	cluster, service = nameOf(cluster), nameOf(service)
	now := time.Now().UTC()
	return &release.Record{
		ID: release.NewID(now), Kind: release.KindBackend, Target: cluster + "/" + service, StartedAt: now,
		Steps:   append([]release.Step(nil), prior...),
		Backend: &release.BackendRecord{Cluster: cluster, Service: service},
	}
}

// finish completes the record and writes it to the store (see release.Finish).
func finish(ctx context.Context, store *release.Store, rec *release.Record, outcome string, err error, out io.Writer) (*release.Record, error) {
	return release.Finish(ctx, store, rec, outcome, err, out, "a rollback will need the revision to go back to named")
}

// lock takes the per-service deploy lock (when store is set) and returns
// its release function and its check: call check before each change to
// ECS, so a deploy whose lock was broken or taken stops before the change.
func lock(ctx context.Context, out io.Writer, rec *release.Record, store *release.Store, h release.Holder, o release.LockOptions) (func(), func(ctx context.Context, step string) error, error) {
	if store == nil {
		return func() {}, noCheck, nil
	}
	var l *release.Lock
	name := "backend/" + rec.Target
	err := step(out, rec, "lock", func() (string, error) {
		var err error
		l, err = store.Acquire(ctx, name, h, o)
		if err != nil {
			return "", err
		}
		return l.URI, nil
	})
	if err != nil {
		return nil, nil, err
	}
	unlock := func() {
		if err := l.Release(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintf(out, "    warning: release deploy lock %s: %v; break it on the next deploy\n", l.URI, err)
		}
	}
	check := func(ctx context.Context, step string) error {
		if err := l.Check(ctx); err != nil {
			return fmt.Errorf("stopped before %s: %w", step, err)
		}
		return nil
	}
	return unlock, check, nil
}

// noCheck is the check of a deploy that holds no lock.
func noCheck(context.Context, string) error { return nil }

// nameOf returns the name in a cluster or service ARN
// (…:cluster/main, …:service/main/api, …:service/api), or s itself.
func nameOf(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	return s[strings.LastIndex(s, "/")+1:]
}
