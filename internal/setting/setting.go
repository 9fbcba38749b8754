// Package setting marks an engine's error as bad input that one setting
// must fix. An engine names the setting in its own terms (the field of its
// options: "Cluster", "Region", "Tag") and words the message in the
// domain's (the cluster, the region, the tag); a caller with a command
// line maps the name to its own flag (ci/internal/hints does, for the
// Dagger module), so no engine speaks of flags it does not have.
package setting

// Error is err, fixed by the setting Name.
type Error struct {
	Name string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Of marks err as fixed by the setting name; nil stays nil.
func Of(name string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Name: name, Err: err}
}

// Names lists, in order and once each, the settings err (and the errors
// it wraps or joins) says to fix; nil when none.
func Names(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if s, ok := err.(*Error); ok && !seen[s.Name] {
			seen[s.Name] = true
			out = append(out, s.Name)
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
