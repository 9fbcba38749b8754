// Package dbsnapshot takes the RDS snapshot a release keeps before its
// migration: the one step a rollback of the service cannot undo. It finds
// the DB (an instance, or an Aurora cluster, also when named by one of its
// instances), takes a manual snapshot named after the release, waits until
// it is available with the SDK's waiter, and prunes the older snapshots
// esteira took of the same DB beyond a retention count, never the newest.
package dbsnapshot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
)

// API is the part of *rds.Client the package uses.
type API interface {
	DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	DescribeDBClusters(context.Context, *rds.DescribeDBClustersInput, ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error)
	CreateDBSnapshot(context.Context, *rds.CreateDBSnapshotInput, ...func(*rds.Options)) (*rds.CreateDBSnapshotOutput, error)
	CreateDBClusterSnapshot(context.Context, *rds.CreateDBClusterSnapshotInput, ...func(*rds.Options)) (*rds.CreateDBClusterSnapshotOutput, error)
	DescribeDBSnapshots(context.Context, *rds.DescribeDBSnapshotsInput, ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error)
	DescribeDBClusterSnapshots(context.Context, *rds.DescribeDBClusterSnapshotsInput, ...func(*rds.Options)) (*rds.DescribeDBClusterSnapshotsOutput, error)
	DeleteDBSnapshot(context.Context, *rds.DeleteDBSnapshotInput, ...func(*rds.Options)) (*rds.DeleteDBSnapshotOutput, error)
	DeleteDBClusterSnapshot(context.Context, *rds.DeleteDBClusterSnapshotInput, ...func(*rds.Options)) (*rds.DeleteDBClusterSnapshotOutput, error)
}

// DB is what a snapshot is taken of.
type DB struct {
	ID      string
	Cluster bool // an Aurora cluster (CreateDBClusterSnapshot), else a DB instance
	Engine  string
}

func (db DB) String() string {
	if db.Cluster {
		return "Aurora cluster " + db.ID
	}
	return "DB instance " + db.ID
}

// Snapshot is a snapshot a release took, as its record keeps it.
type Snapshot struct {
	ID      string `json:"id"`
	ARN     string `json:"arn,omitempty"`
	DB      string `json:"db"`
	Cluster bool   `json:"cluster,omitempty"`
	Engine  string `json:"engine,omitempty"`
}

// TagRelease marks the snapshots esteira takes (value: the release id);
// Prune only ever deletes snapshots that carry it.
const TagRelease = "esteira:release"

// Find resolves name to the DB instance or Aurora cluster it names. An
// instance that belongs to a cluster resolves to the cluster: RDS only
// snapshots Aurora storage as a whole.
func Find(ctx context.Context, c API, name string) (DB, error) {
	if name == "" {
		return DB{}, errors.New("no DB instance or cluster named")
	}
	in, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(name)})
	switch {
	case err == nil && len(in.DBInstances) == 1:
		i := in.DBInstances[0]
		if cl := aws.ToString(i.DBClusterIdentifier); cl != "" {
			return DB{ID: cl, Cluster: true, Engine: aws.ToString(i.Engine)}, nil
		}
		if st := aws.ToString(i.DBInstanceStatus); st != "available" {
			return DB{}, fmt.Errorf("DB instance %s is %s, and RDS snapshots only an available instance: release once it is available again (aws rds describe-db-instances --db-instance-identifier %s)", name, st, name)
		}
		return DB{ID: name, Engine: aws.ToString(i.Engine)}, nil
	case err != nil && code(err) != "DBInstanceNotFound":
		return DB{}, fmt.Errorf("describe DB instance %s: %w", name, err)
	}
	cl, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String(name)})
	switch {
	case err == nil && len(cl.DBClusters) == 1:
		return DB{ID: name, Cluster: true, Engine: aws.ToString(cl.DBClusters[0].Engine)}, nil
	case err != nil && code(err) != "DBClusterNotFoundFault":
		return DB{}, fmt.Errorf("describe DB cluster %s: %w", name, err)
	}
	return DB{}, fmt.Errorf("no RDS DB instance or Aurora cluster is named %q in this account and region (aws rds describe-db-instances / describe-db-clusters list them)", name)
}

// Name is the snapshot identifier of a release's snapshot of db: letters,
// digits and single hyphens, starting with a letter, at most 255
// characters, as RDS requires.
func Name(db, releaseID string) string {
	s := strings.ToLower("esteira-" + db + "-" + releaseID)
	s = strings.Trim(invalidRun.ReplaceAllString(s, "-"), "-")
	if len(s) > 255 {
		s = strings.TrimRight(s[:255], "-")
	}
	return s
}

var invalidRun = regexp.MustCompile(`[^a-z0-9]+`)

// createFailed phrases a refused CreateDB(Cluster)Snapshot, with what to do
// for the refusals a release meets.
func createFailed(id string, db DB, err error) error {
	switch code(err) {
	case "SnapshotQuotaExceeded", "SnapshotQuotaExceededFault":
		return fmt.Errorf("create snapshot %s of %s: RDS holds as many manual snapshots as the account may (%w): delete old ones (esteira's are named esteira-%s-*; a release keeps only the newest of them (its snapshot keep setting) and prunes the rest once its own snapshot succeeds) or raise the quota", id, db, err, db.ID)
	case "InvalidDBInstanceState", "InvalidDBClusterStateFault":
		return fmt.Errorf("create snapshot %s of %s: it is busy (%w): release again once it is available", id, db, err)
	}
	return fmt.Errorf("create snapshot %s of %s: %w", id, db, err)
}

// Take snapshots db for the release and waits up to timeout until the
// snapshot is available. A snapshot that fails, or does not become
// available in time, is an error that says which and what RDS reported.
func Take(ctx context.Context, c API, db DB, releaseID string, timeout time.Duration) (Snapshot, error) {
	id := Name(db.ID, releaseID)
	tags := []types.Tag{{Key: aws.String(TagRelease), Value: aws.String(releaseID)}}
	s := Snapshot{ID: id, DB: db.ID, Cluster: db.Cluster, Engine: db.Engine}
	if db.Cluster {
		out, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String(db.ID), DBClusterSnapshotIdentifier: aws.String(id), Tags: tags})
		if err != nil {
			return s, createFailed(id, db, err)
		}
		s.ARN = aws.ToString(out.DBClusterSnapshot.DBClusterSnapshotArn)
		w := rds.NewDBClusterSnapshotAvailableWaiter(c, func(o *rds.DBClusterSnapshotAvailableWaiterOptions) { o.MinDelay, o.MaxDelay = delays(timeout) })
		if err := w.Wait(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String(id)}, timeout); err != nil {
			return s, notAvailable(ctx, c, s, timeout, err)
		}
		return s, nil
	}
	out, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(db.ID), DBSnapshotIdentifier: aws.String(id), Tags: tags})
	if err != nil {
		return s, createFailed(id, db, err)
	}
	s.ARN = aws.ToString(out.DBSnapshot.DBSnapshotArn)
	w := rds.NewDBSnapshotAvailableWaiter(c, func(o *rds.DBSnapshotAvailableWaiterOptions) { o.MinDelay, o.MaxDelay = delays(timeout) })
	if err := w.Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)}, timeout); err != nil {
		return s, notAvailable(ctx, c, s, timeout, err)
	}
	return s, nil
}

// delays polls a snapshot every 5 to 30 seconds (the waiter's default is
// 30 to 120), faster when the whole wait is short (tests, the sandbox).
func delays(timeout time.Duration) (time.Duration, time.Duration) {
	lo, hi := 5*time.Second, 30*time.Second
	if timeout < 2*time.Minute {
		lo, hi = 100*time.Millisecond, time.Second
	}
	return lo, hi
}

// notAvailable says what became of a snapshot the waiter gave up on.
func notAvailable(ctx context.Context, c API, s Snapshot, timeout time.Duration, werr error) error {
	status := "unknown"
	if st, err := snapshotStatus(context.WithoutCancel(ctx), c, s); err == nil {
		status = st
	}
	if status == "creating" {
		return fmt.Errorf("snapshot %s of %s is still being created after %s (give the release a longer timeout; RDS goes on creating it, and the next release's prune leaves it alone)", s.ID, dbName(s), timeout)
	}
	return fmt.Errorf("snapshot %s of %s did not become available: its status is %s (%v)", s.ID, dbName(s), status, werr)
}

func snapshotStatus(ctx context.Context, c API, s Snapshot) (string, error) {
	if s.Cluster {
		out, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String(s.ID)})
		if err != nil || len(out.DBClusterSnapshots) == 0 {
			return "", errors.Join(err, errors.New("not found"))
		}
		return aws.ToString(out.DBClusterSnapshots[0].Status), nil
	}
	out, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(s.ID)})
	if err != nil || len(out.DBSnapshots) == 0 {
		return "", errors.Join(err, errors.New("not found"))
	}
	return aws.ToString(out.DBSnapshots[0].Status), nil
}

func dbName(s Snapshot) string { return DB{ID: s.DB, Cluster: s.Cluster}.String() }

// RestoreCommand is the AWS CLI command that restores the snapshot into a
// new DB beside the old one (RDS never restores in place): point the
// application at it, or rename, once checked.
func (s Snapshot) RestoreCommand() string {
	if s.Cluster {
		return fmt.Sprintf("aws rds restore-db-cluster-from-snapshot --db-cluster-identifier %s-restored --snapshot-identifier %s --engine %s (then create-db-instance --db-cluster-identifier %s-restored for its instances)",
			s.DB, s.ID, s.Engine, s.DB)
	}
	return fmt.Sprintf("aws rds restore-db-instance-from-db-snapshot --db-instance-identifier %s-restored --db-snapshot-identifier %s", s.DB, s.ID)
}

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
