package lambdadeploy

// SettingError is bad input that one setting must fix. Setting names it
// in the engine's terms, the field of the options ("Function", "Alias",
// "ImageURI", "Zip", "Canary", "ToVersion"); the message speaks of the
// function and its alias, and a caller with flags maps Setting to its own
// flag name (errors.As with interface{ Setting() string }).
type SettingError struct {
	Field string
	Err   error
}

func (e *SettingError) Error() string   { return e.Err.Error() }
func (e *SettingError) Unwrap() error   { return e.Err }
func (e *SettingError) Setting() string { return e.Field }

// setting marks err as fixed by the setting field.
func setting(field string, err error) error { return &SettingError{Field: field, Err: err} }
