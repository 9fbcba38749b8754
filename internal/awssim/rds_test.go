package awssim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
	"github.com/futuraplataforma/esteira/internal/awssim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newRDSClient(t *testing.T) (*awssim.Server, *rds.Client) {
	sim := awssim.New(awssim.DefaultOptions())
	url := sim.Start(t)
	o := sim.Options()
	return sim, rds.New(rds.Options{Region: o.Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")})
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestRDS_InstanceSnapshotIsCreatedWaitedForListedAndDeleted(t *testing.T) {
	sim, c := newRDSClient(t)
	sim.RDS.AddDBInstance("orders", "postgres")
	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Steps: 3} })
	ctx := t.Context()

	db, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("orders")})
	require.NoError(t, err)
	require.Len(t, db.DBInstances, 1)
	assert.Equal(t, "postgres", aws.ToString(db.DBInstances[0].Engine))
	assert.Nil(t, db.DBInstances[0].DBClusterIdentifier)

	out, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("orders"),
		DBSnapshotIdentifier: aws.String("esteira-orders-1"), Tags: []rdstypes.Tag{{Key: aws.String("esteira:release"), Value: aws.String("r1")}}})
	require.NoError(t, err)
	assert.Equal(t, "creating", aws.ToString(out.DBSnapshot.Status))
	assert.Equal(t, "arn:aws:rds:eu-west-1:123456789012:snapshot:esteira-orders-1", aws.ToString(out.DBSnapshot.DBSnapshotArn))

	w := rds.NewDBSnapshotAvailableWaiter(c, func(o *rds.DBSnapshotAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	require.NoError(t, w.Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("esteira-orders-1")}, time.Minute))

	list, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("orders")})
	require.NoError(t, err)
	require.Len(t, list.DBSnapshots, 1)
	s := list.DBSnapshots[0]
	assert.Equal(t, "available", aws.ToString(s.Status))
	assert.Equal(t, "manual", aws.ToString(s.SnapshotType))
	assert.Equal(t, "orders", aws.ToString(s.DBInstanceIdentifier))
	require.Len(t, s.TagList, 1)
	assert.Equal(t, "r1", aws.ToString(s.TagList[0].Value))
	assert.NotNil(t, s.SnapshotCreateTime)

	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("orders"), DBSnapshotIdentifier: aws.String("esteira-orders-1")})
	assert.Equal(t, "DBSnapshotAlreadyExists", apiCode(err))

	_, err = c.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String("esteira-orders-1")})
	require.NoError(t, err)
	assert.Empty(t, sim.RDS.Snapshots("orders"))
	_, err = c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("esteira-orders-1")})
	assert.Equal(t, "DBSnapshotNotFound", apiCode(err))
}

func TestRDS_RefusesWhatRDSRefuses(t *testing.T) {
	sim, c := newRDSClient(t)
	sim.RDS.AddDBCluster("aurora", "aurora-postgresql", "aurora-1")
	ctx := t.Context()

	_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("nope")})
	assert.Equal(t, "DBInstanceNotFound", apiCode(err))
	_, err = c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("nope")})
	assert.Equal(t, "DBClusterNotFoundFault", apiCode(err))
	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("aurora-1"), DBSnapshotIdentifier: aws.String("s1")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(err), "an Aurora member is snapshotted through its cluster")
	_, err = c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("aurora"), DBClusterSnapshotIdentifier: aws.String("bad--id")})
	assert.Equal(t, "InvalidParameterValue", apiCode(err))

	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Refuse: "SnapshotQuotaExceeded"} })
	_, err = c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("aurora"), DBClusterSnapshotIdentifier: aws.String("s2")})
	assert.Equal(t, "SnapshotQuotaExceeded", apiCode(err))
	assert.Empty(t, sim.RDS.Snapshots("aurora"))
}

func TestRDS_ClusterSnapshotCanFail(t *testing.T) {
	sim, c := newRDSClient(t)
	sim.RDS.AddDBCluster("aurora", "aurora-postgresql", "aurora-1")
	sim.RDS.OnSnapshot(func(string) awssim.SnapshotBehavior { return awssim.SnapshotBehavior{Steps: 2, Fail: true} })
	ctx := t.Context()

	out, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("aurora"), DBClusterSnapshotIdentifier: aws.String("s1")})
	require.NoError(t, err)
	assert.Equal(t, "aurora", aws.ToString(out.DBClusterSnapshot.DBClusterIdentifier))
	_, err = c.DeleteDBClusterSnapshot(ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: aws.String("s1")})
	assert.Equal(t, "InvalidDBClusterSnapshotStateFault", apiCode(err), "not while it is being created")

	w := rds.NewDBClusterSnapshotAvailableWaiter(c, func(o *rds.DBClusterSnapshotAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
	})
	assert.Error(t, w.Wait(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: aws.String("s1")}, time.Minute))
	list, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String("aurora")})
	require.NoError(t, err)
	require.Len(t, list.DBClusterSnapshots, 1)
	assert.Equal(t, "failed", aws.ToString(list.DBClusterSnapshots[0].Status))
	assert.Equal(t, "aurora-postgresql", aws.ToString(list.DBClusterSnapshots[0].Engine))
}
