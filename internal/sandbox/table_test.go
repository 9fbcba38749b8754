package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/release"
)

const webBefore = "arn:aws:ecs:eu-west-1:000000000000:task-definition/web:1"

func TestTable_SaysWhyEachReleaseEndedAsItDid(t *testing.T) {
	started := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	gateFailed := &release.Record{ID: "r-web-1", Kind: release.KindBackend, Target: "sandbox/web", StartedAt: started.Add(time.Second),
		Outcome: release.OutcomeRolledBack, Error: "release of web FAILED: web: deploy FAILED: blue/green deployment ROLLBACK_SUCCESSFUL",
		Backend: &release.BackendRecord{Service: "web", BeforeRevision: webBefore, Strategy: "blue/green",
			TestGate: &release.GateRecord{Passed: false, Output: "GET /health: 500"}}}
	for _, tc := range []struct {
		name string
		recs []*release.Record
		want string
	}{
		{"a blue/green release whose gate failed on test traffic left production where it was",
			[]*release.Record{gateFailed},
			"r-web-1  backend  sandbox/web  rolled-back  gate failed on test traffic; production stayed on web:1"},
		{"its environment's release names the service whose gate failed",
			[]*release.Record{gateFailed, {ID: "r-env-1", Kind: release.KindEnvironment, Target: "bluegreen", StartedAt: started,
				Outcome: release.OutcomeFailed, Error: "backend: release of web FAILED: web: deploy FAILED: blue/green deployment ROLLBACK_SUCCESSFUL",
				Environment: &release.EnvironmentRecord{Parts: []string{"r-web-1"}}}},
			"r-env-1  environment  bluegreen    failed       web: gate failed on test traffic"},
		{"a rollout that failed after its gate passed on test traffic is a failed rollout",
			[]*release.Record{{ID: "r-web-2", Kind: release.KindBackend, Target: "sandbox/web", StartedAt: started, Outcome: release.OutcomeRolledBack,
				Backend: &release.BackendRecord{Service: "web", BeforeRevision: webBefore, TestGate: &release.GateRecord{Passed: true}}}},
			"r-web-2  backend  sandbox/web  rolled-back  rollout failed; back on web:1"},
		{"an environment without a site does not claim one",
			[]*release.Record{{ID: "r-env-2", Kind: release.KindEnvironment, Target: "bluegreen", StartedAt: started, Outcome: release.OutcomeSucceeded,
				Environment: &release.EnvironmentRecord{Gate: new(true)}}},
			"r-env-2  environment  bluegreen  succeeded  services and quality gate passed"},
		{"an environment with a site says so",
			[]*release.Record{{ID: "r-env-3", Kind: release.KindEnvironment, Target: "staging", StartedAt: started, Outcome: release.OutcomeSucceeded,
				Environment: &release.EnvironmentRecord{Gate: new(true), Site: "sandbox-www/staging"}}},
			"r-env-3  environment  staging  succeeded  services, site and quality gate passed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := strings.Split(strings.TrimSpace(Table(tc.recs)), "\n")
			require.Len(t, lines, len(tc.recs)+1, "a header, then one line per record")
			assert.Contains(t, lines, tc.want)
		})
	}
}

func TestTable_ListsReleasesOldestFirst(t *testing.T) {
	at := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	out := Table([]*release.Record{
		{ID: "second", Kind: release.KindBackend, StartedAt: at.Add(time.Minute), Outcome: release.OutcomeSucceeded,
			Backend: &release.BackendRecord{AfterRevision: "arn:aws:ecs:eu-west-1:000000000000:task-definition/web:3"}},
		{ID: "first", Kind: release.KindBackend, StartedAt: at, Outcome: release.OutcomeSucceeded,
			Backend: &release.BackendRecord{AfterRevision: "arn:aws:ecs:eu-west-1:000000000000:task-definition/web:2"}},
	})
	assert.Less(t, strings.Index(out, "first"), strings.Index(out, "second"))
	assert.Contains(t, out, "now on web:2")
}
