package main

import (
	"context"

	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Move a damaged backup's manifest aside, so releases and prunes go on.
//
// A backup whose manifest cannot be read stops every release and prune of
// the site (they must know what each backup needs). This moves that
// manifest to a key no release, prune or rollback reads as a backup,
// keeping it for inspection, under the site's deploy lock. The live site
// is not touched. Returns what was (or would be) moved as JSON.
//
// +cache="never"
func (s *Site) SetAside(
	ctx context.Context,
	// Id of the damaged backup, as the error that stopped the release names it.
	backup string,
	// Say what would move, move nothing.
	// +optional
	dryRun bool,
) (string, error) {
	sess, err := s.M.aws(ctx)
	if err != nil {
		return "", err
	}
	res, err := sitepublish.SetAside(ctx, siteClients(sess, ""), sitepublish.SetAsideOptions{
		Bucket: s.Bucket, Prefix: s.Prefix, BackupBucket: s.BackupBucket, Backup: backup, DryRun: dryRun,
		Releases: sess.releases(), Who: sess.who, BreakLock: s.BreakLock, Out: progress(),
	})
	if err != nil {
		return "", s.explain(err)
	}
	return jsonText(res)
}
