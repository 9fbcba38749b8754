// Package redact hides credentials before esteira prints or stores
// anything: release records, progress lines, dry runs, results and errors.
// A Redactor learns the secret values it sees (in the command, under the
// names the user marks, in URLs, headers and log lines) and hides each
// wherever it appears later, not only where it was first seen. The command
// itself still runs as given; only what is shown is changed. Credentials
// belong in the task definition (Secrets Manager references), and the
// README says so; this is the safety net for a command that carries one
// anyway.
//
// What counts as a credential, by its form: the value of a flag, variable,
// field or header whose name looks sensitive (--password x, --key=x,
// --password:x, PGPASSWORD=x, ?password=x, "token":"x", Authorization:
// Bearer x), the password of a URL (scheme://user:x@host), and the value of
// short -p (-p x, -px), which mysql takes for a password: a port hidden by
// mistake is safe, a password shown is not. Words inside a word (sh -c
// "./app --token x") are read the same way.
package redact

import (
	"io"
	"slices"
	"strings"
	"sync"
)

// Mask replaces every hidden value.
const Mask = "<redacted>"

// minLearned is the shortest value hidden wherever it appears: a shorter
// one is hidden where it is found, but hiding it everywhere would mangle
// ordinary text.
const minLearned = 4

// Redactor hides credentials in everything passed through it, learning
// their values as it goes. It is safe for concurrent use.
type Redactor struct {
	names  map[string]bool // lower case, without dashes
	mu     sync.Mutex
	values []string // learned, longest first
}

// New returns a Redactor that also treats names (flags or variables such
// as --dsn or DB_CONN) as holding credentials.
func New(names ...string) *Redactor {
	r := &Redactor{names: map[string]bool{}}
	for _, n := range names {
		r.names[strings.ToLower(strings.TrimLeft(n, "-"))] = true
	}
	return r
}

// Learn marks values as secret, wherever they appear from now on.
func (r *Redactor) Learn(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		if len(v) < minLearned || strings.Contains(v, Mask) || slices.Contains(r.values, v) {
			continue
		}
		r.values = append(r.values, v)
	}
	slices.SortFunc(r.values, func(a, b string) int { return len(b) - len(a) })
}

// known hides every learned value in s.
func (r *Redactor) known(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Mask)
	}
	return s
}

// String returns s with its credentials hidden, learning them first.
func (r *Redactor) String(s string) string {
	spans := r.find(s)
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp.start < last || sp.end <= sp.start {
			continue
		}
		v := s[sp.start:sp.end]
		r.Learn(v, strings.TrimRight(strings.TrimLeft(v, `"'`), `"',;})]`)) // "x"}: x, too
		b.WriteString(s[last:sp.start])
		b.WriteString(Mask)
		last = sp.end
	}
	b.WriteString(s[last:])
	return r.known(b.String())
}

// Command returns a copy of the words of a command with credentials
// hidden: a word after a sensitive flag is hidden whole (spaces and all),
// every other word is read as String reads text.
func (r *Redactor) Command(words []string) []string {
	out := make([]string, len(words))
	for i := 0; i < len(words); i++ {
		if r.valueAfter(words[i]) && i+1 < len(words) {
			r.Learn(words[i+1])
			out[i], out[i+1] = words[i], Mask
			i++
			continue
		}
		if userFlag[words[i]] && i+1 < len(words) && strings.Contains(words[i+1], ":") {
			user, pass, _ := strings.Cut(words[i+1], ":") // curl -u user:password
			r.Learn(pass)
			out[i], out[i+1] = words[i], user+":"+Mask
			i++
			continue
		}
		out[i] = r.String(words[i])
	}
	for i, w := range out { // values learned from later words, in earlier ones
		out[i] = r.known(w)
	}
	return out
}

// Lines returns a copy of lines with credentials hidden.
func (r *Redactor) Lines(lines []string) []string {
	if lines == nil {
		return nil
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = r.String(l)
	}
	for i, l := range out {
		out[i] = r.known(l)
	}
	return out
}

// Error returns err with credentials hidden from its message; errors.Is
// and errors.As still see err. A nil err stays nil.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := r.String(err.Error())
	if msg == err.Error() {
		return err
	}
	return &hidden{msg: msg, err: err}
}

type hidden struct {
	msg string
	err error
}

func (h *hidden) Error() string { return h.msg }
func (h *hidden) Unwrap() error { return h.err }

// Writer hides credentials in everything written through it. Progress is
// written a line at a time, so a value never spans two writes.
func (r *Redactor) Writer(w io.Writer) io.Writer { return &writer{w: w, r: r} }

type writer struct {
	w io.Writer
	r *Redactor
}

func (w *writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, w.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Command returns a copy of words with credentials hidden (see
// Redactor.Command); names are flags or variables also treated as secret.
func Command(words []string, names ...string) []string { return New(names...).Command(words) }

// URLs hides the password of every URL with user information in s.
func URLs(s string) string {
	return userinfo.ReplaceAllString(s, "$1:"+Mask+"@")
}
