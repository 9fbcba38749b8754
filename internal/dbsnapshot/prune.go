package dbsnapshot

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// taken is one of esteira's snapshots of a DB.
type taken struct {
	id      string
	status  string
	created time.Time
}

// Prune deletes esteira's snapshots of db (those tagged TagRelease) beyond
// the newest keep available ones, and never latest, the one the current
// release took; failed ones, which restore nothing, are deleted too.
// Snapshots another tool took, and any still being created, are left alone.
// It returns the identifiers it deleted; keep < 1 is an error.
func Prune(ctx context.Context, c API, db DB, keep int, latest string) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("keep %d snapshots: keep at least 1 (the latest release's)", keep)
	}
	all, err := list(ctx, c, db)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, id := range prunable(all, keep, latest) {
		if err := remove(ctx, c, db, id); err != nil {
			return deleted, fmt.Errorf("delete old snapshot %s of %s: %w", id, db, err)
		}
		deleted = append(deleted, id)
	}
	return deleted, nil
}

// WouldPrune is what Prune would delete once a release has taken its new
// snapshot of db (which it always keeps): a dry run's answer. It deletes
// nothing.
func WouldPrune(ctx context.Context, c API, db DB, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("keep %d snapshots: keep at least 1 (the latest release's)", keep)
	}
	all, err := list(ctx, c, db)
	if err != nil {
		return nil, err
	}
	return prunable(all, keep-1, ""), nil
}

// prunable picks, newest first, the snapshots beyond the keep newest
// available ones (latest always kept and counted), and the failed ones.
func prunable(all []taken, keep int, latest string) []string {
	sort.Slice(all, func(i, j int) bool { // newest first; ids name the release, which sorts by time
		if !all[i].created.Equal(all[j].created) {
			return all[i].created.After(all[j].created)
		}
		return all[i].id > all[j].id
	})
	var out []string
	kept := 0
	for _, s := range all {
		switch {
		case s.id == latest:
			kept++
			continue
		case s.status == "available" && kept < keep:
			kept++ // only a snapshot that can be restored counts as kept
			continue
		case s.status != "available" && s.status != "failed":
			continue // being created, copied or deleted: not ours to touch now
		}
		out = append(out, s.id)
	}
	return out
}

func list(ctx context.Context, c API, db DB) ([]taken, error) {
	var out []taken
	mine := func(tags []types.Tag) bool {
		for _, t := range tags {
			if aws.ToString(t.Key) == TagRelease {
				return true
			}
		}
		return false
	}
	if db.Cluster {
		p := rds.NewDescribeDBClusterSnapshotsPaginator(c, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: aws.String(db.ID), SnapshotType: aws.String("manual")})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list snapshots of %s: %w", db, err)
			}
			for _, s := range page.DBClusterSnapshots {
				if mine(s.TagList) {
					out = append(out, taken{aws.ToString(s.DBClusterSnapshotIdentifier), aws.ToString(s.Status), aws.ToTime(s.SnapshotCreateTime)})
				}
			}
		}
		return out, nil
	}
	p := rds.NewDescribeDBSnapshotsPaginator(c, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(db.ID), SnapshotType: aws.String("manual")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list snapshots of %s: %w", db, err)
		}
		for _, s := range page.DBSnapshots {
			if mine(s.TagList) {
				out = append(out, taken{aws.ToString(s.DBSnapshotIdentifier), aws.ToString(s.Status), aws.ToTime(s.SnapshotCreateTime)})
			}
		}
	}
	return out, nil
}

func remove(ctx context.Context, c API, db DB, id string) error {
	if db.Cluster {
		_, err := c.DeleteDBClusterSnapshot(ctx, &rds.DeleteDBClusterSnapshotInput{DBClusterSnapshotIdentifier: aws.String(id)})
		return err
	}
	_, err := c.DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String(id)})
	return err
}
