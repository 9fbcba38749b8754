package redact

import (
	"regexp"
	"strings"
	"unicode"
)

// sensitive matches a flag, variable, field or header name that holds a
// credential: --password, PGPASSWORD, sslpassword, --passphrase, API_TOKEN,
// --client-secret, --api-key, --key, ssh_key, Authorization.
var sensitive = regexp.MustCompile(`(?i)(pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credentials?|auth|authorization|(^|[-_.])key)$`)

// userinfo matches scheme://user:password@ anywhere in a word.
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*):([^/\s@]*)@`)

// flagAlone is a flag whose value is the next word: --password, -p.
var flagAlone = regexp.MustCompile(`^(-{1,2})([A-Za-z][\w.-]*)$`)

// nameAlone is a name whose value is the next word: "Authorization:",
// "password:", `{"token":`, PGPASSWORD=.
var nameAlone = regexp.MustCompile(`(?:^|[?&;,{(\[])["']?([A-Za-z][\w.-]*)["']?[:=]$`)

// userFlag is curl's -u/--user, whose value is user:password.
var userFlag = map[string]bool{"-u": true, "--user": true, "--proxy-user": true}

// assignment is name=value or name:value (--password=x, PGPASSWORD=x,
// --password:x, "password":"x", password=x in a query), matched where a
// name can start: the start of a word or after ? & ; , { ( [.
var assignment = regexp.MustCompile(`^(-{0,2})["']?([A-Za-z_][\w.-]*)["']?[=:]("[^"]*"|'[^']*'|[^&;\s"']+)`)

// schemes are the words between an Authorization header and its secret.
var schemes = map[string]bool{"bearer": true, "basic": true, "token": true, "digest": true, "negotiate": true}

// span is the byte range of a secret in a string.
type span struct{ start, end int }

// find returns where the secrets of s are, by their form alone.
func (r *Redactor) find(s string) []span {
	toks := tokens(s)
	var out []span
	for i := 0; i < len(toks); i++ {
		t := s[toks[i].start:toks[i].end]
		if inner := unquote(t); inner != t && strings.ContainsFunc(inner, unicode.IsSpace) {
			for _, sp := range r.find(inner) { // a quoted phrase: the words inside it
				out = append(out, span{toks[i].start + 1 + sp.start, toks[i].start + 1 + sp.end})
			}
			continue
		}
		if r.valueAfter(t) && i+1 < len(toks) {
			j := i + 1
			if next := unquote(s[toks[j].start:toks[j].end]); schemes[strings.ToLower(next)] && j+1 < len(toks) {
				j++
			}
			if !strings.HasPrefix(s[toks[j].start:toks[j].end], "--") { // another flag, not a value
				out = append(out, toks[j])
				i = j
			}
			continue
		}
		if userFlag[t] && i+1 < len(toks) {
			next := toks[i+1]
			if c := strings.IndexByte(s[next.start:next.end], ':'); c >= 0 {
				out = append(out, span{next.start + c + 1, next.end})
				i++
				continue
			}
		}
		if len(t) > 2 && strings.HasPrefix(t, "-p") && t[2] != '=' && !strings.HasPrefix(t, "--") {
			// mysql's -pSECRET: a -port or -print hidden is safe, a password shown is not.
			out = append(out, span{toks[i].start + 2, toks[i].end})
			continue
		}
		out = append(out, r.inWord(s, toks[i])...)
	}
	return out
}

// valueAfter reports a word whose value is the next word.
func (r *Redactor) valueAfter(t string) bool {
	if m := flagAlone.FindStringSubmatch(t); m != nil {
		return r.isSensitive(m[2]) || (m[1] == "-" && m[2] == "p")
	}
	if m := nameAlone.FindStringSubmatch(t); m != nil {
		return r.isSensitive(m[1])
	}
	return false
}

// inWord finds the secrets inside one word: assigned values and URL
// passwords.
func (r *Redactor) inWord(s string, tk span) []span {
	w := s[tk.start:tk.end]
	var out []span
	for p := 0; p < len(w); p++ {
		if p > 0 && !strings.ContainsRune("?&;,{([ \"'", rune(w[p-1])) {
			continue
		}
		m := assignment.FindStringSubmatchIndex(w[p:])
		if m == nil {
			continue
		}
		name := w[p+m[4] : p+m[5]]
		if !r.isSensitive(name) && !(w[p+m[2]:p+m[3]] == "-" && name == "p") {
			continue
		}
		start, end := p+m[6], p+m[7]
		if q := w[start]; q == '"' || q == '\'' {
			start, end = start+1, end-1
		}
		out = append(out, span{tk.start + start, tk.start + end})
		p = p + m[1] - 1
	}
	for _, m := range userinfo.FindAllStringSubmatchIndex(w, -1) {
		out = append(out, span{tk.start + m[4], tk.start + m[5]})
	}
	return out
}

// isSensitive reports a name that holds a credential (dashes aside).
func (r *Redactor) isSensitive(name string) bool {
	bare := strings.ToLower(strings.TrimLeft(name, "-"))
	return bare != "" && (sensitive.MatchString(bare) || r.names[bare])
}

// tokens splits s at white space; a quote at the start of a word or after
// = or : runs to its closing quote, spaces included ('a b', --x='a b').
func tokens(s string) []span {
	var out []span
	i := 0
	for i < len(s) {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		start := i
		for i < len(s) && !isSpace(s[i]) {
			if q := s[i]; (q == '"' || q == '\'') && (i == start || s[i-1] == '=' || s[i-1] == ':') {
				if end := strings.IndexByte(s[i+1:], q); end >= 0 {
					i += end + 2
					continue
				}
			}
			i++
		}
		out = append(out, span{start, i})
	}
	return out
}

func isSpace(b byte) bool { return b < 0x80 && unicode.IsSpace(rune(b)) }

// unquote drops one pair of surrounding quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
