package sitepublish

import (
	"testing"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/stretchr/testify/assert"
)

func TestLastDeployBackup_IsTheNewestDeployThatLeftTheSiteChanged(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	rec := func(min int, outcome, backup string, steps ...string) *release.Record {
		r := &release.Record{Kind: release.KindFrontend, Outcome: outcome, StartedAt: t0.Add(time.Duration(min) * time.Minute),
			Frontend: &release.FrontendRecord{BackupURI: backup}}
		for _, s := range steps {
			r.Steps = append(r.Steps, release.Step{Name: s})
		}
		return r
	}
	v1 := rec(1, release.OutcomeSucceeded, "s3://b/www/v1/", "plan", "backup", "publish", "verify")
	v2 := rec(2, release.OutcomeSucceeded, "s3://b/www/v2/", "plan", "backup", "publish", "verify")
	halfNew := rec(3, release.OutcomeFailed, "s3://b/www/v3/", "plan", "backup", "publish", "restore")
	for _, tc := range []struct {
		name string
		recs []*release.Record
		want string
	}{
		{"last success", []*release.Record{v1, v2}, "s3://b/www/v2/"},
		{"a failed deploy whose restore failed too is the last change", []*release.Record{v1, v2, halfNew}, "s3://b/www/v3/"},
		{"a rolled-back deploy changed nothing", []*release.Record{v1, v2,
			rec(3, release.OutcomeRolledBack, "s3://b/www/v3/", "plan", "backup", "publish", "restore")}, "s3://b/www/v2/"},
		{"a deploy refused before publishing changed nothing", []*release.Record{v1, v2,
			rec(3, release.OutcomeFailed, "s3://b/www/v3/", "plan", "backup")}, "s3://b/www/v2/"},
		{"a rollback is not a deploy", []*release.Record{v1, v2,
			rec(3, release.OutcomeSucceeded, "s3://b/www/rb/", "plan", "backup", "restore")}, "s3://b/www/v2/"},
		{"no-change deploys have no backup", []*release.Record{v1, rec(2, release.OutcomeNoChange, "", "plan")}, "s3://b/www/v1/"},
		{"nothing recorded", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if last := lastDeploy(tc.recs); last != nil {
				got = last.Frontend.BackupURI
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
