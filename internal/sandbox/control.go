package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
)

// SetRules replaces the sandbox's task rules (nil: every task succeeds).
//
// Deprecated: use control.SetRules.
func SetRules(ctx context.Context, endpoint string, rules []awssim.Rule) error {
	return putControl(ctx, endpoint+RulesPath, map[string]any{"rules": nonNil(rules)})
}

// SetFaults replaces the sandbox's S3 upload faults (nil: none).
//
// Deprecated: use control.SetFaults.
func SetFaults(ctx context.Context, endpoint string, faults []awssim.S3Fault) error {
	return putControl(ctx, endpoint+FaultsPath, map[string]any{"faults": nonNil(faults)})
}

// SetSnapshots replaces the sandbox's RDS snapshot rules (nil: every
// snapshot becomes available at once).
//
// Deprecated: use control.SetSnapshots.
func SetSnapshots(ctx context.Context, endpoint string, rules []awssim.SnapshotRule) error {
	return putControl(ctx, endpoint+SnapshotsPath, map[string]any{"snapshots": nonNil(rules)})
}

// SetLambda replaces the sandbox's Lambda rules: how the next updates of
// functions end, and alarm states (empty: every update succeeds).
//
// Deprecated: use control.SetLambda.
func SetLambda(ctx context.Context, endpoint string, rules awssim.LambdaRules) error {
	rules.Updates, rules.Alarms = nonNil(rules.Updates), nonNil(rules.Alarms)
	return putControl(ctx, endpoint+LambdaPath, rules)
}

// SetKeyValueStoreFaults makes the next KeyValueStore calls fail (nil:
// none). Every attempt counts and the module retries a 500 up to 6 times:
// a 4xx code (AccessDeniedException) fails a call at once.
//
// Deprecated: use control.SetKeyValueStoreFaults.
func SetKeyValueStoreFaults(ctx context.Context, endpoint string, faults []awssim.KVSFault) error {
	return putControl(ctx, endpoint+KeyValueStorePath, map[string]any{"faults": nonNil(faults)})
}

// Pointers returns the keys of the sandbox's KeyValueStore: each atomic
// site's live pointer, by bucket/prefix.
//
// Deprecated: use control.KeyValueStoreKeys(ctx, endpoint, KeyValueStore).
func Pointers(ctx context.Context, endpoint string) (map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+KeyValueStorePath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the sandbox's key value stores: %w", err)
	}
	defer resp.Body.Close()
	var out struct{ Stores []awssim.KVSStore }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("read the sandbox's key value stores: %w", err)
	}
	for _, st := range out.Stores {
		if st.Name == KeyValueStore {
			return st.Keys, nil
		}
	}
	return nil, fmt.Errorf("the sandbox has no key value store %s", KeyValueStore)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func putControl(ctx context.Context, url string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("script the sandbox at %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("script the sandbox at %s: HTTP %d: %s", url, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Table renders release records oldest first, one line each: what a
// person reads at the end of the demo.
func Table(records []*release.Record) string {
	recs := append([]*release.Record(nil), records...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].StartedAt.Before(recs[j].StartedAt) })
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "RELEASE\tKIND\tTARGET\tOUTCOME\tWHAT")
	for _, r := range recs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Target, r.Outcome, summary(r))
	}
	_ = w.Flush()
	return b.String()
}

// summary says in a few words what a release did or why it failed.
func summary(r *release.Record) string {
	switch {
	case r.Backend != nil && r.Outcome == release.OutcomeSucceeded:
		return "now on " + lastPart(r.Backend.AfterRevision)
	case r.Backend != nil && r.Backend.Migration != nil && !r.Backend.Migration.Succeeded:
		return "migration failed; service left on " + lastPart(r.Backend.BeforeRevision)
	case r.Backend != nil && r.Outcome == release.OutcomeRolledBack:
		return "rollout failed; back on " + lastPart(r.Backend.BeforeRevision)
	case r.Environment != nil && r.Environment.PromotedFrom != "" && r.Outcome == release.OutcomeSucceeded:
		return "promoted from " + r.Environment.PromotedFrom
	case r.Environment != nil && r.Outcome == release.OutcomeSucceeded && r.Environment.Gate != nil:
		return "services, site and quality gate passed"
	case r.Lambda != nil && r.Outcome == release.OutcomeSucceeded:
		return fmt.Sprintf("%s on version %s (was %s)", r.Lambda.Alias, r.Lambda.AfterVersion, r.Lambda.BeforeVersion)
	case r.Lambda != nil && r.Outcome == release.OutcomeRolledBack:
		return fmt.Sprintf("canary failed; %s back on version %s", r.Lambda.Alias, r.Lambda.BeforeVersion)
	case r.Frontend != nil && r.Outcome == release.OutcomeSucceeded && r.Frontend.Release != "":
		return fmt.Sprintf("live pointer %s -> %s", orNone(r.Frontend.Previous), r.Frontend.Release)
	case r.Frontend != nil && r.Outcome == release.OutcomeSucceeded:
		return fmt.Sprintf("%d uploaded, %d unchanged, %d deleted", r.Frontend.Uploaded, r.Frontend.Skipped, r.Frontend.Deleted)
	}
	if first, _, _ := strings.Cut(r.Error, "\n"); first != "" {
		if len(first) > 70 {
			first = first[:67] + "..."
		}
		return first
	}
	return ""
}

func lastPart(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func orNone(id string) string {
	if id == "" {
		return "(none)"
	}
	return id
}
