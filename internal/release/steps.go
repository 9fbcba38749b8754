package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// RunStep runs f as the step name of rec and prints it to out as one line,
// "==> name ok (1.2s) detail" or "==> name FAIL (3s) first line of the
// error"; f returns the detail.
func RunStep(out io.Writer, rec *Record, name string, f func() (string, error)) error {
	start := time.Now()
	detail, err := f()
	rec.Step(name, start, err, detail)
	status := "ok"
	if err != nil {
		status = "FAIL"
		detail, _, _ = strings.Cut(err.Error(), "\n")
		if len(detail) > 160 {
			detail = detail[:160] + "…"
		}
	}
	if detail != "" {
		detail = "  " + detail
	}
	fmt.Fprintf(out, "==> %-9s %-4s (%s)%s\n", name, status, RoundDuration(time.Since(start)), detail)
	return err
}

// RoundDuration keeps durations readable: 12ms, 3.4s, 1m12s.
func RoundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// Finish completes rec with the outcome and err, prints how it ended, and
// writes it to store if the release got as far as its lock or found
// nothing to do (bad input, a refused lock and dry runs leave no trace). A
// record that cannot be written is reported, never hidden; without it,
// noRecord says what the rollback then needs (e.g. "backend rollback will
// need --to-revision").
func Finish(ctx context.Context, store *Store, rec *Record, outcome string, err error, out io.Writer, noRecord string) (*Record, error) {
	rec.FinishedAt, rec.Outcome = time.Now().UTC(), outcome
	red := rec.redactor()
	rec.scrub(red)
	err = red.Error(err) // the error the user sees, as the record says it
	if err != nil {
		rec.Error = err.Error()
	}
	rec.scrub(red)
	fmt.Fprintf(out, "==> %s %s in %s\n", rec.Kind, outcome, RoundDuration(rec.FinishedAt.Sub(rec.StartedAt)))
	locked := slices.ContainsFunc(rec.Steps, func(s Step) bool { return s.Name == "lock" && s.Outcome == StepOK })
	if store == nil || (!locked && outcome != OutcomeNoChange) {
		return rec, err
	}
	uri, perr := store.Put(context.WithoutCancel(ctx), rec)
	if perr != nil {
		perr = fmt.Errorf("write release record %s (outcome %s): %w", rec.ID, outcome, perr)
		if err == nil {
			return rec, fmt.Errorf("the release itself %s, but %w; %s", outcome, perr, noRecord)
		}
		return rec, errors.Join(err, perr)
	}
	fmt.Fprintf(out, "==> record    %s\n", uri)
	return rec, err
}
