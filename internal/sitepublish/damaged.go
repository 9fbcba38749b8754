package sitepublish

import (
	"errors"
	"fmt"
)

// DamagedBackupError is a backup whose manifest is there but cannot be
// read (cut short, corrupted). Such a backup is rightly refused as a
// restore source; and since a release and a prune must know what every
// backup of the site needs, they stop at it too, with this error. The
// live site is not affected. The way on is SetAside, which moves the
// manifest to a key no release, prune or rollback reads as a backup,
// keeping it for inspection.
//
// ci/ finds it with errors.As (or DamagedBackup) and renders the command
// from Backup: `site ... set-aside --backup <Backup>` (--dry-run first).
type DamagedBackupError struct {
	// Backup is the backup's id (the release id that took it; for an
	// atomic site, the release folder).
	Backup string
	// Manifest is the damaged manifest, s3://bucket/key.
	Manifest string
	// Err says what is wrong with it.
	Err error
}

func (e *DamagedBackupError) Error() string {
	return fmt.Sprintf("backup %s is damaged: its manifest %s cannot be read (%v); the live site is unaffected, "+
		"but no release or prune of the site goes on past a backup it cannot read: set backup %s aside "+
		"(its manifest is moved aside and kept for inspection) and releases continue", e.Backup, e.Manifest, e.Err, e.Backup)
}

func (e *DamagedBackupError) Unwrap() error { return e.Err }

// DamagedBackup returns the *DamagedBackupError in err's chain, if any.
func DamagedBackup(err error) (*DamagedBackupError, bool) {
	var d *DamagedBackupError
	ok := errors.As(err, &d)
	return d, ok
}

// damagedManifest marks a manifest that was read but does not decode.
type damagedManifest struct{ err error }

func (d *damagedManifest) Error() string { return d.err.Error() }
func (d *damagedManifest) Unwrap() error { return d.err }

// asDamagedBackup turns the error of reading backup id's manifest at loc
// into a *DamagedBackupError when the manifest does not decode.
func asDamagedBackup(id string, loc location, err error) error {
	var d *damagedManifest
	if errors.As(err, &d) {
		return &DamagedBackupError{Backup: id, Manifest: "s3://" + loc.Bucket + "/" + loc.manifestKey(), Err: d.err}
	}
	return err
}
