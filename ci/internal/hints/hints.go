// Package hints adds to an engine's typed error the exact command a user
// runs next, built from how they reached the object on the command line.
package hints

import (
	"errors"
	"fmt"
	"strings"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

// Site adds the next command to err from a site verb. via is how the user
// reached the site ("site --bucket B ..." or "env --name X site");
// breakLock whether the lock policy already breaks locks.
func Site(err error, via string, breakLock bool) error {
	if err == nil {
		return nil
	}
	call := "dagger call " + via
	var (
		locked   *release.LockedError
		lost     *release.LostLockError
		refused  *release.BreakRefusedError
		unproven *sitepublish.UnprovenBackupError
	)
	switch d, damaged := sitepublish.DamagedBackup(err); {
	case damaged:
		return fmt.Errorf("%w\nto go on: %s set-aside --backup %s --dry-run, then the same without --dry-run", err, call, d.Backup)
	case errors.As(err, &refused) && refused.BackupID != "":
		return fmt.Errorf("%w\nonce no deploy runs: aws s3 rm %s, then %s rollback --backup %s --dry-run, then the same without --dry-run", err, refused.URI, call, refused.BackupID)
	case errors.As(err, &refused):
		return fmt.Errorf("%w\nonce no deploy runs: aws s3 rm %s, then run again", err, refused.URI)
	case errors.As(err, &unproven) && len(unproven.Candidates) > 0:
		return fmt.Errorf("%w\nto restore the site as it was before that release: %s rollback --backup %s --dry-run, then the same without --dry-run", err, call, unproven.Candidates[0].ID)
	case errors.As(err, &lost):
		return fmt.Errorf("%w\nsee who holds it and what runs: %s status", err, call)
	case errors.As(err, &locked) && !breakLock:
		breaking := call + " --break-lock"
		if env, ok := strings.CutSuffix(via, " site"); ok && strings.HasPrefix(env, "env ") {
			breaking = "dagger call " + env + " --break-lock site" // env holds the lock policy
		}
		return fmt.Errorf("%w\nto break it: %s ...", err, breaking)
	}
	return SiteSettings(err, via)
}
