package sitepublish

import (
	"context"
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/release"
)

// Sites may share a backup root (one backup bucket, the same prefix
// layout), so a release id or a backup location can name another site's
// backup. A backup's manifest says which site (bucket/prefix) it is of, and
// a site is restored only from its own. Backups written before manifests
// said so (backups by copy) are restored only when something else proves
// whose they are, or when named by their full location: a deliberate
// choice, which the refusal offers, unlike a release id that may be
// another site's.

// checkBackupOf refuses to restore b into site unless b is site's backup.
// A backup that does not say which site it is of is taken as site's when
// byLocation (the user named it s3://...), when it lies in the site's own
// bucket under the site's default backup root (esteira-backups/<prefix>/,
// which names both), or when one of the site's release records took it;
// otherwise it is refused.
func checkBackupOf(ctx context.Context, site location, b *backupSnapshot, records *release.Store, byLocation bool) error {
	switch {
	case b.site == target(site):
		return nil
	case b.site != "":
		return fmt.Errorf("backup %s is of the site %s, not of %s: a site is restored only from its own backups; name a backup of %s",
			b.loc, b.site, target(site), target(site))
	case byLocation, atOwnDefaultRoot(site, b.loc):
		return nil
	}
	if records != nil {
		recs, err := records.List(ctx, "frontend", target(site))
		if err != nil {
			return fmt.Errorf("list the release records of %s to tell whose backup %s is: %w", target(site), b.loc, err)
		}
		for _, rec := range recs {
			if rec.Frontend != nil && rec.Frontend.BackupURI != "" && parseBackupURI(rec.Frontend.BackupURI) == b.loc {
				return nil
			}
		}
	}
	return fmt.Errorf("backup %s does not say which site it is of (an older esteira wrote it), and neither its location nor the release records of %s prove it is this site's: "+
		"restoring another site's backup would replace this site with that one; if you are sure it is this site's, name it by its full location, %s, to restore it", b.loc, target(site), b.loc)
}

// atOwnDefaultRoot reports whether loc is a backup directly under the
// default backup root of site in the site's own bucket.
func atOwnDefaultRoot(site, loc location) bool {
	return site.Prefix != "" && loc.Bucket == site.Bucket &&
		backupRoot(loc) == newLocation(site.Bucket, defaultBackupPrefix(site.Bucket, site.Prefix, site.Bucket, ""))
}

// parseBackupURI turns s3://bucket/prefix/ into its location.
func parseBackupURI(uri string) location {
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
	return newLocation(bucket, prefix)
}
