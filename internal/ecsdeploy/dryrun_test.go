package ecsdeploy_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/ecsdeploy"
	"github.com/futuraplataforma/esteira/internal/release"
)

func TestMigrate_DryRunNamesRevisionCommandAndSnapshotAndRunsNothing(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	before := e.changes()
	o := ecsdeploy.MigrateOptions{
		Cluster: "main", Service: "api", Image: imgV2, Command: []string{"./app", "migrate", "--password", "hunter22"},
		SnapshotDB: "orders", Releases: store, Who: "ci", DryRun: true,
		Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out,
	}
	res, err := ecsdeploy.Migrate(t.Context(), e.clients, o)
	require.NoError(t, err)

	assert.Equal(t, before, e.changes(), "no revision registered, no task run, no snapshot taken")
	assert.Empty(t, e.sim.RDS.Snapshots("orders"))
	require.NotNil(t, res.Plan)
	p := res.Plan
	assert.Equal(t, "api:1", p.Revision)
	assert.Equal(t, imgV2, p.Image)
	assert.True(t, p.Temporary)
	assert.Equal(t, []string{"./app", "migrate", "--password", "<redacted>"}, p.Command)
	require.NotNil(t, p.Snapshot)
	assert.Equal(t, "DB instance orders", p.Snapshot.DB)
	require.NotNil(t, p.Lock)
	assert.Nil(t, p.Lock.Holder)
	out := e.out.String()
	assert.Contains(t, out, p.String()+"==> DRY RUN OK")
	assert.Contains(t, out, `run migration "./app migrate --password <redacted>" as a one-off task of the temporary copy of api:1`)
	assert.NotContains(t, out, "hunter22")
	data, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(data), `{"dryRun":true,"plan":{"cluster":"main"`)
	assert.NotContains(t, string(data), "hunter22")
	held, err := store.Held(t.Context(), "backend/main/api")
	require.NoError(t, err)
	assert.Nil(t, held, "a dry run takes no lock")

	o.SnapshotDB = "nope"
	_, err = ecsdeploy.Migrate(t.Context(), e.clients, o)
	assert.ErrorContains(t, err, `no RDS DB instance or Aurora cluster is named "nope"`, "a dry run still refuses bad input")
}

func TestRollback_DryRunNamesFromAndToAndChangesNothing(t *testing.T) {
	e := newEnv(t, awssim.ServiceSpec{})
	store := newStore(t)
	o := e.opts(imgV2)
	o.Releases, o.Who = store, "ci"
	_, err := ecsdeploy.Deploy(t.Context(), e.clients, o)
	require.NoError(t, err)
	v2 := aws.ToString(e.service(t).TaskDefinition)
	before := e.changes()

	for name, to := range map[string]string{"FromTheRecords": "", "GivenRevision": "api:1"} {
		t.Run(name, func(t *testing.T) {
			rec, err := ecsdeploy.Rollback(t.Context(), e.clients, ecsdeploy.RollbackOptions{
				Cluster: "main", Service: "api", ToRevision: to, Releases: store, Who: "ci", DryRun: true,
				Timeout: 20 * time.Second, PollInterval: time.Millisecond, Out: e.out,
			})
			require.NoError(t, err)
			assert.Equal(t, release.OutcomeDryRun, rec.Outcome)
			assert.Equal(t, v2, rec.Backend.BeforeRevision)
			assert.Equal(t, e.v1, rec.Backend.AfterRevision)
			assert.Equal(t, before, e.changes())
			assert.Equal(t, v2, aws.ToString(e.service(t).TaskDefinition), "the service still runs api:2")
			out := e.out.String()
			assert.Contains(t, out, "plan: roll back main/api from api:2 to api:1\n  against api:2, api:1 changes:\n    container app: image: "+imgV2+" -> "+imgV1+"\n  deploy lock backend/main/api: free\n")
			assert.Contains(t, out, "==> DRY RUN OK")
		})
	}
	recs, err := store.List(t.Context(), release.KindBackend, "main/api")
	require.NoError(t, err)
	assert.Len(t, recs, 1, "a dry run writes no record")

	_, err = ecsdeploy.Rollback(t.Context(), e.clients, ecsdeploy.RollbackOptions{Cluster: "main", Service: "api", ToRevision: "api:99", DryRun: true, Out: e.out})
	assert.ErrorContains(t, err, "api:99", "a dry run still refuses a revision that does not exist")
	assert.Equal(t, before, e.changes())
}
