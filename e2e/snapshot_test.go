//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sandbox"
	"github.com/futuraplataforma/esteira/internal/sandbox/control"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// backend with-migration --snapshot-db: the database is snapshotted before the
// migration, the snapshot is in the record and in RDS; a snapshot that
// fails stops the deploy before the migration; an unknown database is
// refused before anything changes.
func TestBackend_SnapshotsTheDatabaseBeforeTheMigration(t *testing.T) {
	require.NoError(t, control.SetRules(t.Context(), endpoint, nil))
	image := liveImage(t)
	// deploy is backend ... with-migration --command migrate <migration...> deploy --image IMAGE --force.
	deploy := func(migration ...string) result {
		return inSandbox(t, append(append([]string{"backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "--poll-interval", "1s",
			"with-migration", "--command", "migrate"}, migration...), "deploy", "--image", image, "--force")...)
	}

	t.Run("the snapshot is available before the migration runs", func(t *testing.T) {
		r := deploy("--snapshot-db", sandbox.DB, "--snapshot-keep", "3")
		rec := record(t, ok(t, r))
		assert.Equal(t, release.OutcomeSucceeded, rec.Outcome)
		require.NotNil(t, rec.Backend.Snapshot, "the record names the snapshot")
		snap := rec.Backend.Snapshot
		assert.Equal(t, sandbox.DB, snap.DB)
		assert.Contains(t, snap.Restore, "--db-snapshot-identifier "+snap.ID)
		out, err := rdsClient().DescribeDBSnapshots(t.Context(), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(snap.ID)})
		require.NoError(t, err)
		require.Len(t, out.DBSnapshots, 1)
		assert.Equal(t, "available", aws.ToString(out.DBSnapshots[0].Status))
		assert.Contains(t, functionOutput(r.stderr), "==> snapshot  ok")
	})

	t.Run("a snapshot that fails stops the deploy before the migration", func(t *testing.T) {
		require.NoError(t, control.SetSnapshots(t.Context(), endpoint, []awssim.SnapshotRule{{DB: sandbox.DB, SnapshotBehavior: awssim.SnapshotBehavior{Steps: 2, Fail: true}}}))
		t.Cleanup(func() { _ = control.SetSnapshots(context.Background(), endpoint, nil) })
		before, updates := liveRevision(t), serviceEvents(t)
		r := deploy("--snapshot-db", sandbox.DB)
		fails(t, r, "did not become available: its status is failed", "the migration did not run", "the service was not changed")
		assert.NotContains(t, functionOutput(r.stderr), "==> migrate", "no migration without its snapshot")
		assert.Equal(t, before, liveRevision(t))
		assert.Equal(t, updates, serviceEvents(t))
	})

	t.Run("migrate with a snapshot database snapshots first and returns the snapshot", func(t *testing.T) {
		before := liveRevision(t)
		out := ok(t, inSandbox(t, "backend", "--cluster", sandbox.Cluster, "--service", sandbox.Service, "--poll-interval", "1s",
			"with-migration", "--command", "migrate", "--snapshot-db", sandbox.DB, "migrate"))
		var res struct {
			Succeeded bool                    `json:"succeeded"`
			Snapshot  *release.SnapshotRecord `json:"snapshot"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		assert.True(t, res.Succeeded)
		require.NotNil(t, res.Snapshot, out)
		_, err := rdsClient().DescribeDBSnapshots(t.Context(), &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(res.Snapshot.ID)})
		require.NoError(t, err)
		assert.Equal(t, before, liveRevision(t))
	})

	t.Run("an unknown database is refused before anything changes", func(t *testing.T) {
		revs := latestRevision(t)
		fails(t, deploy("--snapshot-db", "nope-db"), `no RDS DB instance or Aurora cluster is named "nope-db"`)
		assert.Equal(t, revs, latestRevision(t), "no task definition was registered")
	})
}

func rdsClient() *rds.Client {
	return rds.New(rds.Options{Region: sandbox.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.AccessKeyID, sandbox.SecretAccessKey, "")})
}
