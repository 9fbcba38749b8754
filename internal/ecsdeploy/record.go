package ecsdeploy

import (
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

// newGuard guards a backend release: its lock, its steps and its record.
func newGuard(store *release.Store, rec *release.Record, out io.Writer) *release.Guard {
	return release.NewGuard(store, rec, out, "a rollback will need the revision to go back to named")
}

// lockName is the deploy lock of a service.
func lockName(rec *release.Record) string { return release.KindBackend + "/" + rec.Target }

// nameOf returns the name in a cluster or service ARN
// (…:cluster/main, …:service/main/api, …:service/api), or s itself.
func nameOf(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	return s[strings.LastIndex(s, "/")+1:]
}
