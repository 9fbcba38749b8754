package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
)

// parseDurations parses duration flags, naming the flag in the error.
func parseDurations(flags map[string]string) (map[string]time.Duration, error) {
	out := make(map[string]time.Duration, len(flags))
	for flag, v := range flags {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s %q is not a positive duration: use a value like 90s, 15m or 1h", flag, v)
		}
		out[flag] = d
	}
	return out, nil
}

// recordJSON returns the release record as the function's result. A failed
// release still printed its record; the error is what dagger call reports.
func recordJSON(rec *release.Record, err error) (string, error) {
	if err != nil {
		return "", err
	}
	out, jerr := json.MarshalIndent(rec, "", "  ")
	if jerr != nil {
		return "", jerr
	}
	return string(out), nil
}

func outcome(err error) string {
	if err != nil {
		return "FAILED"
	}
	return "ok"
}
