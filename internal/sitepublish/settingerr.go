package sitepublish

// SettingError is bad input that one setting must fix, refused before
// anything changes in AWS. Setting names it in the engine's terms, the
// field of the options ("Bucket", "Prefix", "BackupBucket", "Keep",
// "Atomic.KeyValueStore", ...); the message speaks of the site, its
// backups and its live pointer, and a caller that has flags or a file maps
// Setting to its own name for it (as ci/internal/hints does).
type SettingError struct {
	Field string
	Err   error
}

func (e *SettingError) Error() string   { return e.Err.Error() }
func (e *SettingError) Unwrap() error   { return e.Err }
func (e *SettingError) Setting() string { return e.Field }

// setting marks err as fixed by the setting field.
func setting(field string, err error) error { return &SettingError{Field: field, Err: err} }

var _ interface{ Setting() string } = (*SettingError)(nil)
