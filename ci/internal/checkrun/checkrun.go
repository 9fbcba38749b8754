// Package checkrun decides, without a Dagger session, what each check of
// esteira.yaml is given and what its record keeps: the secrets it names,
// found among those given to the release (a missing one refused before
// anything runs), and the end of its output with every secret hidden.
package checkrun

import (
	"fmt"
	"slices"
	"strings"

	"github.com/futuraplataforma/esteira/internal/envfile"
	"github.com/futuraplataforma/esteira/internal/redact"
	"github.com/futuraplataforma/esteira/internal/release"
)

// OutputTail is how many lines of a check's output the record keeps.
const OutputTail = 20

// Secrets returns, by check, the indexes in given of the secrets each
// check names. A secret not given is an error naming the check, the secret
// and the call that gives it (env is the environment's name).
func Secrets(checks []envfile.Check, env string, given []string) (map[string][]int, error) {
	out := map[string][]int{}
	for _, c := range checks {
		for _, name := range c.Secrets {
			i := slices.Index(given, name)
			if i < 0 {
				return nil, fmt.Errorf("check %s needs the secret %s, and it was not given; nothing was run: give it with with-secret --name %s --value env:%s "+
					"before release (dagger call env --name %s with-secret --name %s --value env:%s release)", c.Name, name, name, name, env, name, name)
			}
			out[c.Name] = append(out[c.Name], i)
		}
	}
	return out, nil
}

// Record is what the release record keeps of a check: the end of its
// output, with the secrets red learned and whatever looks like a
// credential hidden.
func Record(c envfile.Check, out string, passed bool, red *redact.Redactor) release.CheckRecord {
	return release.CheckRecord{Name: c.Name, Image: c.Image, Command: c.Command, Passed: passed, Output: LastLines(red.String(out), OutputTail)}
}

// LastLines is the last n lines of s.
func LastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
