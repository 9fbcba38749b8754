package sitepublish

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// CacheRule sets Cache-Control for the site paths matching Pattern. Rules are
// tried in order and the first match wins. Pattern is a glob over the path
// relative to the site root: "*" matches within one path segment, "**/"
// matches zero or more folders, "**" anything, "?" one character; the
// special pattern Fingerprinted matches files whose name carries a content
// hash (app.3f9a1c2b.js, index-BQ8H6eYx.js).
type CacheRule struct {
	Pattern, Value string
}

// Fingerprinted is the CacheRule pattern for content-hashed file names.
const Fingerprinted = "{fingerprinted}"

// DefaultCacheRules: HTML always revalidated (so a release is seen at once),
// fingerprinted assets immutable for a year, anything else five minutes.
var DefaultCacheRules = []CacheRule{
	{Pattern: "**/*.html", Value: "no-cache"},
	{Pattern: Fingerprinted, Value: "public, max-age=31536000, immutable"},
	{Pattern: "**", Value: "public, max-age=300"},
}

// ParseCacheRules parses "pattern=value;pattern=value" (the value may itself
// contain "=" and ","). An empty string returns nil (the defaults).
func ParseCacheRules(s string) ([]CacheRule, error) {
	var rules []CacheRule
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		pat, val, ok := strings.Cut(part, "=")
		pat, val = strings.TrimSpace(pat), strings.TrimSpace(val)
		if !ok || pat == "" || val == "" {
			return nil, fmt.Errorf("cache-control rule %q is not pattern=value: write e.g. \"assets/**=public, max-age=31536000, immutable\"", part)
		}
		if _, err := compileGlob(pat); err != nil {
			return nil, err
		}
		rules = append(rules, CacheRule{Pattern: pat, Value: val})
	}
	return rules, nil
}

// cacheMatcher picks the Cache-Control value for a path.
type cacheMatcher struct {
	rules []CacheRule
	res   []*regexp.Regexp // nil entry: Fingerprinted
}

func newCacheMatcher(rules []CacheRule) (*cacheMatcher, error) {
	if rules == nil {
		rules = DefaultCacheRules
	}
	m := &cacheMatcher{rules: rules}
	for _, r := range rules {
		re, err := compileGlob(r.Pattern)
		if err != nil {
			return nil, err
		}
		m.res = append(m.res, re)
	}
	return m, nil
}

func (m *cacheMatcher) value(rel string) string {
	for i, re := range m.res {
		if (re == nil && fingerprinted(rel)) || (re != nil && re.MatchString(rel)) {
			return m.rules[i].Value
		}
	}
	return ""
}

func compileGlob(pat string) (*regexp.Regexp, error) {
	if pat == Fingerprinted {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; {
		case strings.HasPrefix(pat[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(pat[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("cache-control pattern %q: %w", pat, err)
	}
	return re, nil
}

// fingerprinted reports whether the file name has a content-hash segment
// before its extension, after "." or "-": 8 or more lower-case hex digits
// with at least one digit and one letter (webpack, Parcel, Next.js, CRA:
// main.3f9a1c2b.js), or exactly 8 letters and digits with at least one of
// each (Vite, Rollup, esbuild: index-BQ8H6eYx.js, main-KLOBH7JQ.js). Names
// such as app-component.js, hero-1920x1080.jpg or report-20240101.pdf are
// not hashes: a false match would pin the file in caches for a year.
func fingerprinted(rel string) bool {
	name := path.Base(rel)
	ext := path.Ext(name)
	if ext == "" {
		return false
	}
	stem := strings.TrimSuffix(name, ext)
	i := strings.LastIndexAny(stem, ".-")
	if i < 0 {
		return false
	}
	h := stem[i+1:]
	var digits, hexLetters, otherLetters int
	for _, r := range h {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'f':
			hexLetters++
		case r >= 'g' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_':
			otherLetters++
		default:
			return false
		}
	}
	letters := hexLetters + otherLetters
	if otherLetters == 0 && len(h) >= 8 && digits > 0 && hexLetters > 0 {
		return true
	}
	return len(h) == 8 && digits > 0 && letters > 0
}
