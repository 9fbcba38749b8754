// Package redact hides the values of a command that look like credentials
// before esteira prints or stores it: release records, progress lines, dry
// runs and results. The command itself still runs as given; only what is
// shown is changed. Credentials belong in the task definition (Secrets
// Manager references), and the README says so; this is the safety net for
// a command that carries one anyway.
package redact

import (
	"io"
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces every hidden value.
const Mask = "<redacted>"

// sensitive matches a flag or variable name that holds a credential:
// --password, --db-password, PGPASSWORD, API_TOKEN, --client-secret, --api-key.
var sensitive = regexp.MustCompile(`(?i)(pass(word|wd)?|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credentials?|auth)$`)

// userinfo matches scheme://user:password@ anywhere in a word.
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*):([^/\s@]*)@`)

// Command returns a copy of words with credentials hidden: the value of a
// flag or variable whose name looks sensitive or is one of names (as
// --flag=value, --flag value, or NAME=value), and the password of any URL
// with user information.
func Command(words []string, names ...string) []string {
	extra := map[string]bool{}
	for _, n := range names {
		extra[strings.ToLower(strings.TrimLeft(n, "-"))] = true
	}
	isSensitive := func(name string) bool {
		bare := strings.ToLower(strings.TrimLeft(name, "-"))
		return bare != "" && (sensitive.MatchString(bare) || extra[bare])
	}
	out := make([]string, len(words))
	hideNext := false
	for i, w := range words {
		switch {
		case hideNext:
			out[i], hideNext = Mask, false
			continue
		case strings.HasPrefix(w, "-") && !strings.Contains(w, "="):
			hideNext = isSensitive(w)
			out[i] = w
			continue
		}
		if name, _, ok := strings.Cut(w, "="); ok && isSensitive(name) {
			out[i] = name + "=" + Mask
			continue
		}
		out[i] = URLs(w)
	}
	return out
}

// URLs hides the password of every URL with user information in s.
func URLs(s string) string {
	return userinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := userinfo.FindStringSubmatch(m)
		if _, err := url.Parse(sub[1] + "@x"); err != nil {
			return m
		}
		return sub[1] + ":" + Mask + "@"
	})
}

// Values returns the values Command hides in words, so the same values can
// be hidden where the command's own output repeats them (its logs).
func Values(words []string, names ...string) []string {
	shown := Command(words, names...)
	var vals []string
	for i, w := range words {
		if shown[i] == w {
			continue
		}
		if shown[i] == Mask {
			vals = append(vals, w)
			continue
		}
		if name, v, ok := strings.Cut(w, "="); ok && shown[i] == name+"="+Mask {
			vals = append(vals, v)
			continue
		}
		for _, m := range userinfo.FindAllStringSubmatch(w, -1) {
			vals = append(vals, m[2])
		}
	}
	var out []string
	for _, v := range vals {
		if len(v) >= 4 { // too short to hide without mangling ordinary text
			out = append(out, v)
		}
	}
	return out
}

// Lines returns a copy of lines with every one of values and every URL
// password hidden.
func Lines(lines []string, values []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		for _, v := range values {
			l = strings.ReplaceAll(l, v, Mask)
		}
		out[i] = URLs(l)
	}
	return out
}

// Writer hides values and URL passwords in everything written through it.
// Progress is written a line at a time, so a value never spans two writes.
func Writer(w io.Writer, values []string) io.Writer { return &writer{w: w, values: values} }

type writer struct {
	w      io.Writer
	values []string
}

func (r *writer) Write(p []byte) (int, error) {
	s := Lines([]string{string(p)}, r.values)[0]
	if _, err := io.WriteString(r.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
