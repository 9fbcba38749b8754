package sandbox

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/futuraplataforma/esteira/internal/release"
)

// Table renders release records oldest first, one line each: what a
// person reads at the end of the demo.
func Table(records []*release.Record) string {
	recs := append([]*release.Record(nil), records...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].StartedAt.Before(recs[j].StartedAt) })
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	byID := make(map[string]*release.Record, len(recs))
	for _, r := range recs {
		byID[r.ID] = r
	}
	fmt.Fprintln(w, "RELEASE\tKIND\tTARGET\tOUTCOME\tWHAT")
	for _, r := range recs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Target, r.Outcome, summary(r, byID))
	}
	_ = w.Flush()
	return b.String()
}

// summary says in a few words what a release did or why it failed; parts
// are the records by ID, where an environment's release finds its parts.
func summary(r *release.Record, parts map[string]*release.Record) string {
	switch {
	case r.Backend != nil && r.Outcome == release.OutcomeSucceeded:
		return "now on " + lastPart(r.Backend.AfterRevision)
	case r.Backend != nil && r.Backend.Migration != nil && !r.Backend.Migration.Succeeded:
		return "migration failed; service left on " + lastPart(r.Backend.BeforeRevision)
	case r.Backend != nil && r.Outcome == release.OutcomeRolledBack && testGateFailed(r):
		return "gate failed on test traffic; production stayed on " + lastPart(r.Backend.BeforeRevision)
	case r.Backend != nil && r.Outcome == release.OutcomeRolledBack:
		return "rollout failed; back on " + lastPart(r.Backend.BeforeRevision)
	case r.Environment != nil && r.Environment.PromotedFrom != "" && r.Outcome == release.OutcomeSucceeded:
		return "promoted from " + r.Environment.PromotedFrom
	case r.Environment != nil && r.Outcome == release.OutcomeSucceeded && r.Environment.Gate != nil && r.Environment.Site == "":
		return "services and quality gate passed"
	case r.Environment != nil && r.Outcome == release.OutcomeSucceeded && r.Environment.Gate != nil:
		return "services, site and quality gate passed"
	case r.Environment != nil && r.Outcome != release.OutcomeSucceeded && gatedOut(r, parts) != "":
		return gatedOut(r, parts) + ": gate failed on test traffic"
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

// testGateFailed reports whether the quality gate failed on the test
// traffic of a backend release: production traffic never moved.
func testGateFailed(r *release.Record) bool {
	return r.Backend != nil && r.Backend.TestGate != nil && !r.Backend.TestGate.Passed
}

// gatedOut names the service of an environment's release whose gate
// failed on test traffic, "" if none did.
func gatedOut(r *release.Record, parts map[string]*release.Record) string {
	for _, id := range r.Environment.Parts {
		if p := parts[id]; p != nil && testGateFailed(p) {
			return p.Backend.Service
		}
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
