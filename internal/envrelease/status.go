package envrelease

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/lambdadeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

// Where is what an environment to report on consists of.
type Where struct {
	Cluster, Container string
	Services           []string
	// Site is "bucket/prefix" (the frontend's records and lock), "" for none.
	Site string
	// Functions are the Lambda functions, each with its alias ("" is live).
	Functions []FunctionRef
}

// FunctionRef names a function and the alias it is released behind.
type FunctionRef struct{ Name, Alias string }

// Status is what runs where: each service's live revision and image, the
// site's live release, the last releases and the locks held.
type Status struct {
	Services  []*ecsdeploy.ServiceState  `json:"services,omitempty"`
	Functions []*lambdadeploy.AliasState `json:"functions,omitempty"`
	// Site is the newest frontend release that changed the site, if any.
	Site     *release.Record            `json:"site,omitempty"`
	Releases []*release.Record          `json:"releases"`
	Locks    map[string]*release.Holder `json:"locks"`
}

// lastN is how many releases per service or site Status lists.
const lastN = 3

// ReadStatus reads the environment's state; it changes nothing. Without a
// release store there are no records or locks to report.
func ReadStatus(ctx context.Context, c Clients, store *release.Store, w Where) (*Status, error) {
	st := &Status{Locks: map[string]*release.Holder{}}
	for _, svc := range w.Services {
		s, err := ecsdeploy.State(ctx, c.ECS, w.Cluster, svc, w.Container)
		if err != nil {
			return nil, err
		}
		st.Services = append(st.Services, s)
	}
	for _, f := range w.Functions {
		a, err := lambdadeploy.State(ctx, c.Lambda.Lambda, f.Name, f.Alias)
		if err != nil {
			return nil, err
		}
		st.Functions = append(st.Functions, a)
	}
	if store == nil {
		return st, nil
	}
	type target struct{ kind, name string }
	var targets []target
	for _, svc := range w.Services {
		targets = append(targets, target{release.KindBackend, w.Cluster + "/" + svc})
	}
	if w.Site != "" {
		targets = append(targets, target{release.KindFrontend, w.Site})
	}
	for _, f := range w.Functions {
		targets = append(targets, target{release.KindLambda, f.Name})
	}
	for _, t := range targets {
		recs, err := store.List(ctx, t.kind, t.name)
		if err != nil {
			return nil, err
		}
		st.Releases = append(st.Releases, recs[:min(lastN, len(recs))]...)
		if t.kind == release.KindFrontend {
			for _, r := range recs {
				if r.Outcome == release.OutcomeSucceeded && r.Frontend != nil && r.Frontend.Uploaded+r.Frontend.Deleted > 0 {
					st.Site = r
					break
				}
			}
		}
		h, err := store.Held(ctx, t.kind+"/"+t.name)
		if err != nil {
			return nil, err
		}
		if h != nil {
			st.Locks[t.kind+"/"+t.name] = h
		}
	}
	return st, nil
}

// Text is the status for a person.
func (s *Status) Text() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tSTRATEGY\tREVISION\tRUNNING\tROLLOUT\tIMAGE")
	for _, svc := range s.Services {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", svc.Service, orDash(svc.Strategy), svc.Revision, svc.Running, svc.Desired, orDash(svc.Rollout), svc.Image)
	}
	_ = w.Flush()
	for _, svc := range s.Services {
		if d := svc.InProgress; d != nil {
			fmt.Fprintf(&b, "%s: %s deployment %s at %s", svc.Service, svc.Strategy, d.Status, d.Stage)
			if d.Traffic != "" {
				fmt.Fprintf(&b, ", %s", d.Traffic)
			}
			if d.Paused != "" {
				fmt.Fprintf(&b, "; paused by hook %s", d.Paused)
			}
			fmt.Fprintf(&b, " (%s)\n", d.ARN)
		}
	}
	if len(s.Functions) > 0 {
		b.WriteString("\n")
		w = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "FUNCTION\tALIAS\tTRAFFIC")
		for _, f := range s.Functions {
			fmt.Fprintf(w, "%s\t%s\t%s\n", f.Function, f.Alias, f.Text())
		}
		_ = w.Flush()
	}
	if s.Site != nil {
		fmt.Fprintf(&b, "\nsite %s: release %s (%s)\n", s.Site.Target, s.Site.ID, s.Site.FinishedAt.Format("2006-01-02 15:04:05Z"))
	}
	if len(s.Releases) > 0 {
		b.WriteString("\n")
		w = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "RELEASE\tKIND\tTARGET\tOUTCOME")
		for _, r := range s.Releases {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.Target, r.Outcome)
		}
		_ = w.Flush()
	}
	if len(s.Locks) == 0 {
		b.WriteString("\nno deploy lock is held\n")
	}
	for _, name := range slices.Sorted(maps.Keys(s.Locks)) {
		h := s.Locks[name]
		fmt.Fprintf(&b, "\nLOCK %s held by %s since %s: %s\n", name, h.Who, h.Since.Format("2006-01-02 15:04:05Z"), h.What)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
