package ecsdeploy

// SettingError is bad input that one setting must fix. Setting names it
// in the engine's terms, the field of the options ("Cluster", "Service",
// "Container", "Image", "ToRevision"); the message speaks of the domain
// (the cluster, the container), and a caller that has flags maps Setting
// to its own flag name.
type SettingError struct {
	Field string
	Err   error
}

func (e *SettingError) Error() string   { return e.Err.Error() }
func (e *SettingError) Unwrap() error   { return e.Err }
func (e *SettingError) Setting() string { return e.Field }

// setting marks err as fixed by the setting field.
func setting(field string, err error) error { return &SettingError{Field: field, Err: err} }

// Settings lists, in order and once each, the settings err (and the errors
// it wraps or joins) says to fix; nil when none.
func Settings(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if s, ok := err.(interface{ Setting() string }); ok && !seen[s.Setting()] {
			seen[s.Setting()] = true
			out = append(out, s.Setting())
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

var _ interface{ Setting() string } = (*SettingError)(nil)
