package release

import (
	"fmt"
	"io"
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
	PrintStep(out, name, time.Since(start), err, detail)
	return err
}

// PrintStep prints a step that took took as one line: "==> name ok
// (1.2s)  detail", or FAIL and the first line of err.
func PrintStep(out io.Writer, name string, took time.Duration, err error, detail string) {
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
	fmt.Fprintf(out, "==> %-9s %-4s (%s)%s\n", name, status, RoundDuration(took), detail)
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
