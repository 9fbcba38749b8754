package lambdadeploy

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseShare reads a canary share given as a percentage like 10% (or
// 2.5%): 0.1. Empty is 0, no canary.
func ParseShare(v string) (float64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "%"), 64)
	if err != nil || !strings.HasSuffix(v, "%") || n <= 0 || n >= 100 {
		return 0, fmt.Errorf("canary %q: give the share of traffic as a percentage between 0%% and 100%%, e.g. 10%%", v)
	}
	return n / 100, nil
}

// ParseEnv reads NAME=value pairs. The CLI splits a list flag at
// every comma, so a word without "=" continues the value before it:
// SIZES=320,640 is one variable.
func ParseEnv(words []string) (map[string]string, error) {
	if len(words) == 0 {
		return nil, nil
	}
	env := map[string]string{}
	last := ""
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		switch {
		case !ok && last != "":
			env[last] += "," + w
		case !ok || k == "":
			return nil, fmt.Errorf("environment variable %q: give NAME=value", w)
		default:
			env[k], last = v, k
		}
	}
	return env, nil
}
