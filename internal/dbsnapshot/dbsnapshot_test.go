package dbsnapshot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/dbsnapshot"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func setup(t *testing.T) (*awssim.Server, *rds.Client) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	sim.RDS.AddDBInstance("orders", "postgres")
	sim.RDS.AddDBCluster("ledger", "aurora-postgresql", "ledger-1", "ledger-2")
	return sim, rds.New(rds.Options{Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
}

func TestFind_NamesTheInstanceOrItsCluster(t *testing.T) {
	_, c := setup(t)
	db, err := dbsnapshot.Find(t.Context(), c, "orders")
	require.NoError(t, err)
	assert.Equal(t, dbsnapshot.DB{ID: "orders", Engine: "postgres"}, db)

	db, err = dbsnapshot.Find(t.Context(), c, "ledger-2")
	require.NoError(t, err)
	assert.Equal(t, dbsnapshot.DB{ID: "ledger", Cluster: true, Engine: "aurora-postgresql"}, db, "an Aurora instance is snapshotted as its cluster")

	db, err = dbsnapshot.Find(t.Context(), c, "ledger")
	require.NoError(t, err)
	assert.True(t, db.Cluster)

	_, err = dbsnapshot.Find(t.Context(), c, "ordrs")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no RDS DB instance or Aurora cluster is named "ordrs"`)
}

func TestName_IsAValidSnapshotIdentifier(t *testing.T) {
	assert.Equal(t, "esteira-orders-20261202t004356z-ab12cd", dbsnapshot.Name("orders", "20261202T004356Z-ab12cd"))
	assert.Equal(t, "esteira-my-db-r1", dbsnapshot.Name("my--db_", "-r1-"))
	long := dbsnapshot.Name(strings.Repeat("a", 300), "r")
	assert.LessOrEqual(t, len(long), 255)
	assert.False(t, strings.HasSuffix(long, "-"))
}

func TestTake_WaitsUntilTheSnapshotIsAvailable(t *testing.T) {
	sim, c := setup(t)
	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Steps: 3} })
	for _, name := range []string{"orders", "ledger"} {
		db, err := dbsnapshot.Find(t.Context(), c, name)
		require.NoError(t, err)
		s, err := dbsnapshot.Take(t.Context(), c, db, "20261202T004356Z-ab12cd", time.Minute)
		require.NoError(t, err, name)
		assert.Equal(t, "esteira-"+name+"-20261202t004356z-ab12cd", s.ID)
		assert.Equal(t, name, s.DB)
		assert.Contains(t, s.ARN, s.ID)
		assert.Equal(t, []string{s.ID}, sim.RDS.Snapshots(name))
	}
	assert.GreaterOrEqual(t, sim.Count("rds", "DescribeDBSnapshots"), 3, "it waited for the instance snapshot")
	assert.GreaterOrEqual(t, sim.Count("rds", "DescribeDBClusterSnapshots"), 3, "and for the cluster's")
}

func TestTake_SaysWhatBecameOfASnapshotThatFailed(t *testing.T) {
	sim, c := setup(t)
	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Steps: 2, Fail: true} })
	_, err := dbsnapshot.Take(t.Context(), c, dbsnapshot.DB{ID: "orders"}, "r1", time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "snapshot esteira-orders-r1 of DB instance orders did not become available: its status is failed")

	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Steps: 1000} })
	_, err = dbsnapshot.Take(t.Context(), c, dbsnapshot.DB{ID: "ledger", Cluster: true}, "r2", time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "still being created after 1s")

	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Refuse: "SnapshotQuotaExceeded"} })
	_, err = dbsnapshot.Take(t.Context(), c, dbsnapshot.DB{ID: "orders"}, "r3", time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "create snapshot esteira-orders-r3 of DB instance orders")
	assert.Contains(t, err.Error(), "SnapshotQuotaExceeded")
	assert.Contains(t, err.Error(), "delete old ones (esteira's are named esteira-orders-*")
}

func TestPrune_KeepsTheNewestAndNeverTheLatestOrOthersSnapshots(t *testing.T) {
	sim, c := setup(t)
	ctx := t.Context()
	db := dbsnapshot.DB{ID: "orders"}
	_, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("orders"), DBSnapshotIdentifier: aws.String("nightly-backup")})
	require.NoError(t, err)
	var ids []string
	for _, r := range []string{"r1", "r2", "r3", "r4"} {
		time.Sleep(2 * time.Millisecond) // snapshots are ordered by creation time
		s, err := dbsnapshot.Take(ctx, c, db, r, time.Minute)
		require.NoError(t, err)
		ids = append(ids, s.ID)
	}
	deleted, err := dbsnapshot.Prune(ctx, c, db, 2, ids[3])
	require.NoError(t, err)
	assert.ElementsMatch(t, ids[:2], deleted)
	assert.Equal(t, []string{"nightly-backup", ids[2], ids[3]}, sim.RDS.Snapshots("orders"), "someone else's snapshot is never esteira's to prune")

	deleted, err = dbsnapshot.Prune(ctx, c, db, 1, ids[2])
	require.NoError(t, err)
	assert.Empty(t, deleted, "keep 1 keeps the newest, and the latest release's is never deleted")

	_, err = dbsnapshot.Prune(ctx, c, db, 0, ids[3])
	assert.ErrorContains(t, err, "keep at least 1")
}

func TestRestoreCommand_NamesTheSnapshot(t *testing.T) {
	s := dbsnapshot.Snapshot{ID: "esteira-orders-r1", DB: "orders"}
	assert.Equal(t, "aws rds restore-db-instance-from-db-snapshot --db-instance-identifier orders-restored --db-snapshot-identifier esteira-orders-r1", s.RestoreCommand())
	c := dbsnapshot.Snapshot{ID: "esteira-ledger-r1", DB: "ledger", Cluster: true, Engine: "aurora-postgresql"}
	assert.Contains(t, c.RestoreCommand(), "restore-db-cluster-from-snapshot --db-cluster-identifier ledger-restored --snapshot-identifier esteira-ledger-r1 --engine aurora-postgresql")
}

func TestFind_RefusesAnInstanceThatIsNotAvailable(t *testing.T) {
	sim, c := setup(t)
	sim.RDS.SetDBInstanceStatus("orders", "modifying")
	_, err := dbsnapshot.Find(t.Context(), c, "orders")
	assert.ErrorContains(t, err, "DB instance orders is modifying")
}

// A failed snapshot restores nothing: it never takes a kept place, and is deleted.
func TestPrune_CountsOnlySnapshotsThatRestore(t *testing.T) {
	sim, c := setup(t)
	db := dbsnapshot.DB{ID: "orders"}
	r1, err := dbsnapshot.Take(t.Context(), c, db, "r1", time.Minute)
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Fail: true} })
	_, err = dbsnapshot.Take(t.Context(), c, db, "r2", time.Minute)
	require.Error(t, err)
	sim.RDS.OnSnapshot(nil)
	time.Sleep(2 * time.Millisecond)
	r3, err := dbsnapshot.Take(t.Context(), c, db, "r3", time.Minute)
	require.NoError(t, err)
	deleted, err := dbsnapshot.Prune(t.Context(), c, db, 2, r3.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"esteira-orders-r2"}, deleted)
	assert.Equal(t, []string{r1.ID, r3.ID}, sim.RDS.Snapshots("orders"), "two restore points kept")
}

// A dry run's prune: the new snapshot a release would take counts as kept,
// so keep 2 leaves room for one of the existing ones; nothing is deleted.
func TestWouldPrune_NamesWhatTheReleasesPruneWouldDeleteAndDeletesNothing(t *testing.T) {
	sim, c := setup(t)
	db := dbsnapshot.DB{ID: "orders"}
	var ids []string
	for _, r := range []string{"r1", "r2", "r3"} { // ids sort by release, creation times never go back
		s, err := dbsnapshot.Take(t.Context(), c, db, r, time.Minute)
		require.NoError(t, err)
		ids = append(ids, s.ID)
	}
	would, err := dbsnapshot.WouldPrune(t.Context(), c, db, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{ids[1], ids[0]}, would, "newest first; the newest existing one is kept beside the new one")
	assert.Equal(t, ids, sim.RDS.Snapshots("orders"), "nothing deleted")
	assert.Zero(t, sim.Count("rds", "DeleteDBSnapshot"))

	would, err = dbsnapshot.WouldPrune(t.Context(), c, db, 4)
	require.NoError(t, err)
	assert.Empty(t, would)
	_, err = dbsnapshot.WouldPrune(t.Context(), c, db, 0)
	assert.ErrorContains(t, err, "keep at least 1")
}

// What to do is said in the release's terms, not a command-line flag's.
func TestTake_ErrorsSayWhatToDoWithoutNamingAFlag(t *testing.T) {
	sim, c := setup(t)
	db := dbsnapshot.DB{ID: "orders"}
	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Refuse: "SnapshotQuotaExceeded"} })
	_, err := dbsnapshot.Take(t.Context(), c, db, "r1", time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a release keeps only the newest of them (its snapshot keep setting)")
	assert.NotContains(t, err.Error(), "--")

	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Steps: 1 << 20} })
	_, err = dbsnapshot.Take(t.Context(), c, db, "r2", time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "give the release a longer timeout")
	assert.NotContains(t, err.Error(), "--")
}
