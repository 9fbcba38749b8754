package main

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/futuraplataforma/esteira/ci/internal/checkrun"
	"github.com/futuraplataforma/esteira/ci/internal/dagger"
	"github.com/futuraplataforma/esteira/internal/envfile"
)

// secretName is an environment variable name: what a check gets a secret as.
var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Give the checks of esteira.yaml a secret they name, e.g. with-secret --name SONAR_TOKEN --value env:SONAR_TOKEN.
//
// Returns the environment with the secret; chain it once per secret
// before release. A check gets only the secrets its checks[].secrets
// names, as environment variables; their values are never printed and
// never kept in the release record. A check naming a secret that was not
// given stops the release before anything runs.
func (e *Environment) WithSecret(
	// The environment variable the checks name, e.g. SONAR_TOKEN.
	name string,
	// Its value, e.g. env:SONAR_TOKEN or file:./sonar-token.
	value *dagger.Secret,
) (*Environment, error) {
	if !secretName.MatchString(name) {
		return nil, fmt.Errorf("with-secret --name %q: give the environment variable a check names in its secrets (letters, digits and _, not starting with a digit), e.g. SONAR_TOKEN", name)
	}
	c := *e
	c.SecretNames, c.SecretValues = slices.Clone(e.SecretNames), slices.Clone(e.SecretValues)
	if i := slices.Index(c.SecretNames, name); i >= 0 {
		c.SecretValues[i] = value
		return &c, nil
	}
	c.SecretNames, c.SecretValues = append(c.SecretNames, name), append(c.SecretValues, value)
	return &c, nil
}

// checkSecret is one secret a check gets: its variable name and value.
type checkSecret struct {
	name  string
	value *dagger.Secret
}

// checkSecrets gives each check the secrets it names, by check; a secret
// no with-secret gave stops the release before anything runs.
func (e *Environment) checkSecrets(checks []envfile.Check) (map[string][]checkSecret, error) {
	byCheck, err := checkrun.Secrets(checks, e.Name, e.SecretNames)
	if err != nil {
		return nil, err
	}
	out := map[string][]checkSecret{}
	for check, idx := range byCheck {
		for _, i := range idx {
			out[check] = append(out[check], checkSecret{name: e.SecretNames[i], value: e.SecretValues[i]})
		}
	}
	return out, nil
}
