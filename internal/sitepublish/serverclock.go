package sitepublish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// A prune leaves alone what was written recently, because a release may be
// about to name it. "Recently" is measured on the S3 server's clock, which
// stamped every object's LastModified, never on the local one: a pruning
// machine whose clock runs hours ahead would otherwise take the contents a
// running release has just copied for old ones, and that release would
// report success with a backup that cannot be restored.

// serverClock is a store that can tell its server's time.
type serverClock interface {
	serverTime(ctx context.Context, bucket string) (time.Time, error)
}

// skewNoted is how far the local clock may be off the server's before a
// prune says so.
const skewNoted = time.Minute

// serverNow returns the S3 server's time now, from a fresh response to a
// request on bucket, and notes on out how far local (the local clock) is
// off it. The zero time means unknown, and a prune then deletes nothing by
// age: now.Sub(modified) is never past the grace period.
func serverNow(ctx context.Context, st objectStore, bucket string, local time.Time, out io.Writer) time.Time {
	c, ok := st.(serverClock)
	if !ok {
		fmt.Fprintln(out, "note: the S3 server's time is unknown, so no content is deleted by age")
		return time.Time{}
	}
	now, err := c.serverTime(ctx, bucket)
	if err != nil {
		fmt.Fprintf(out, "note: the S3 server's time is unknown (%v), so no content is deleted by age\n", err)
		return time.Time{}
	}
	switch skew := local.Sub(now); {
	case skew > skewNoted:
		fmt.Fprintf(out, "note: the local clock is %s ahead of the S3 server; ages are the server's\n", skew.Round(time.Second))
	case skew < -skewNoted:
		fmt.Fprintf(out, "note: the local clock is %s behind the S3 server; ages are the server's\n", (-skew).Round(time.Second))
	}
	return now
}

// serverTime reads the Date header of a one-key listing of bucket (the
// SDK keeps it in the response's metadata).
func (s *s3Store) serverTime(ctx context.Context, bucket string) (time.Time, error) {
	out, err := s.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)})
	if err != nil {
		return time.Time{}, fmt.Errorf("list s3://%s: %w", bucket, err)
	}
	t, ok := awsmiddleware.GetServerTime(out.ResultMetadata)
	if !ok || t.IsZero() {
		return time.Time{}, errors.New("the server's response has no Date header")
	}
	return t, nil
}

// sortNewestOnServer orders backups (or release folders) newest first by
// when the S3 server stored their manifests (LastModified), ties as
// sortNewestFirst does. The time a manifest holds is the writing machine's
// clock: one running hours ahead would make an older backup look newest,
// and a prune keep it and delete the real newest.
func sortNewestOnServer(ctx context.Context, st objectStore, es []backupEntry) error {
	stored := make([]time.Time, len(es))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, e := range es {
		g.Go(func() error {
			objs, err := st.List(gctx, e.loc.Bucket, e.loc.manifestKey())
			if err != nil {
				return fmt.Errorf("list %s: %w", e.loc, err)
			}
			for _, o := range objs {
				if o.Key == e.loc.manifestKey() {
					stored[i] = o.Modified
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	at := make(map[string]time.Time, len(es))
	for i, e := range es {
		at[e.loc.String()] = stored[i]
	}
	sortNewestFirst(es)
	slices.SortStableFunc(es, func(a, b backupEntry) int { return at[b.loc.String()].Compare(at[a.loc.String()]) })
	return nil
}
