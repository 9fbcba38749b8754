package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/ci/internal/dagger"

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
// release has a record too (its outcome, rollback and migration log), but
// a failing Dagger function returns only its error, so the record goes to
// the progress output first.
func recordJSON(rec *release.Record, err error) (string, error) {
	var out []byte
	if rec != nil {
		var jerr error
		if out, jerr = json.MarshalIndent(rec, "", "  "); jerr != nil && err == nil {
			return "", jerr
		}
	}
	if err != nil {
		if out != nil {
			fmt.Fprintf(progress(), "release record:\n%s\n", out)
		}
		return "", err
	}
	return string(out), nil
}

// recordsJSON is recordJSON for the records of several services.
func recordsJSON(recs []*release.Record, err error) (string, error) {
	out, jerr := json.MarshalIndent(recs, "", "  ")
	if jerr != nil && err == nil {
		return "", jerr
	}
	if err != nil {
		if len(recs) > 0 {
			fmt.Fprintf(progress(), "release records:\n%s\n", out)
		}
		return "", err
	}
	return string(out), nil
}

// outputs is where a verb's progress goes: stderr, and for a dry run also
// text, whose lines (the plan) are the verb's result.
func outputs(dryRun bool) (io.Writer, *strings.Builder) {
	text := &strings.Builder{}
	if !dryRun {
		return progress(), text
	}
	return io.MultiWriter(progress(), text), text
}

func outcome(err error) string {
	if err != nil {
		return "FAILED"
	}
	return "ok"
}

// why is an error from a Dagger API call as text, so our own context
// survives: the engine shows a returned error that wraps an API error as
// that API error alone, dropping what we said around it. A failed command
// keeps the end of its output.
func why(err error) string {
	var exec *dagger.ExecError
	if errors.As(err, &exec) {
		out := strings.TrimSpace(exec.Stdout + "\n" + exec.Stderr)
		if lines := strings.Split(out, "\n"); len(lines) > 30 {
			out = strings.Join(lines[len(lines)-30:], "\n")
		}
		return fmt.Sprintf("%s exited %d:\n%s", strings.Join(exec.Cmd, " "), exec.ExitCode, out)
	}
	return err.Error()
}
