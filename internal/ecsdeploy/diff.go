package ecsdeploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/redact"
)

// FieldChange is one field of a task definition that the new revision
// changes. An empty Before means the field is added, an empty After that
// it is removed. Values that look like credentials (environment variables
// named like a password, URLs with a password) are shown redacted.
type FieldChange struct {
	// Field is the task definition's JSON name, with the container for a
	// container's field: "cpu", "container app: image",
	// "container app: environment PORT", "container app: secret DB_URL".
	Field  string `json:"field"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// diffTaskDef compares the registration request the live revision would
// make (live) with the one the deploy makes (next), field by field, and
// returns only the fields that differ, task-level fields first, then each
// container's in the order of next. redactNames are extra variable names
// whose values are hidden.
func diffTaskDef(live, next *ecs.RegisterTaskDefinitionInput, redactNames []string) []FieldChange {
	var out []FieldChange
	add := func(field, before, after string) {
		out = append(out, FieldChange{Field: field, Before: before, After: after})
	}
	diffFields("", reflect.ValueOf(*live), reflect.ValueOf(*next), map[string]bool{"ContainerDefinitions": true, "Tags": true}, redactNames, add)
	diffPairs("tag ", tagPairs(live.Tags), tagPairs(next.Tags), nil, add)
	before := map[string]types.ContainerDefinition{}
	for _, c := range live.ContainerDefinitions {
		before[aws.ToString(c.Name)] = c
	}
	seen := map[string]bool{}
	for _, c := range next.ContainerDefinitions {
		name := aws.ToString(c.Name)
		seen[name] = true
		old, ok := before[name]
		if !ok {
			add("container "+name, "", "(added, image "+aws.ToString(c.Image)+")")
			continue
		}
		diffContainer("container "+name+": ", old, c, redactNames, add)
	}
	for _, c := range live.ContainerDefinitions {
		if name := aws.ToString(c.Name); !seen[name] {
			add("container "+name, "(image "+aws.ToString(c.Image)+")", "")
		}
	}
	return out
}

// diffContainer compares two definitions of one container: environment
// variables and secrets by name, every other field as a whole.
func diffContainer(prefix string, a, b types.ContainerDefinition, redactNames []string, add func(string, string, string)) {
	diffFields(prefix, reflect.ValueOf(a), reflect.ValueOf(b), map[string]bool{"Environment": true, "Secrets": true}, redactNames, add)
	envOf := func(kv []types.KeyValuePair) map[string]string {
		m := map[string]string{}
		for _, p := range kv {
			m[aws.ToString(p.Name)] = aws.ToString(p.Value)
		}
		return m
	}
	// A value that looks like a credential is compared as it is and shown
	// redacted: a changed password is listed, never shown.
	showEnv := func(name, v string) string {
		if v == "" {
			return ""
		}
		return strings.TrimPrefix(redact.Command([]string{name + "=" + v}, redactNames...)[0], name+"=")
	}
	diffPairs(prefix+"environment ", envOf(a.Environment), envOf(b.Environment), showEnv, add)
	secretsOf := func(ss []types.Secret) map[string]string {
		m := map[string]string{}
		for _, s := range ss {
			m[aws.ToString(s.Name)] = aws.ToString(s.ValueFrom) // a reference, never a value
		}
		return m
	}
	diffPairs(prefix+"secret ", secretsOf(a.Secrets), secretsOf(b.Secrets), nil, add)
}

// diffFields compares the exported fields of two structs of one type, but
// those in skip.
func diffFields(prefix string, a, b reflect.Value, skip map[string]bool, redactNames []string, add func(string, string, string)) {
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || skip[f.Name] {
			continue
		}
		// Compared as they are, shown redacted: a changed credential is
		// listed, never shown.
		if show(a.Field(i), nil, false) != show(b.Field(i), nil, false) {
			add(prefix+jsonName(f.Name), show(a.Field(i), redactNames, true), show(b.Field(i), redactNames, true))
		}
	}
}

// diffPairs compares two name→value maps, in name order; show (nil: as
// they are) turns a value into what is shown.
func diffPairs(prefix string, a, b map[string]string, show func(name, v string) string, add func(string, string, string)) {
	if show == nil {
		show = func(_, v string) string { return v }
	}
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		if a[n] != b[n] {
			add(prefix+n, show(n, a[n]), show(n, b[n]))
		}
	}
}

func tagPairs(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// show renders a field's value for people: "" when unset, strings and
// numbers as they are, anything else as JSON; with hide, credentials in a
// command or a URL are redacted.
func show(v reflect.Value, redactNames []string, hide bool) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		if e := v.Elem(); e.Kind() != reflect.Struct {
			return show(e, redactNames, hide)
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return ""
		}
		if words, ok := v.Interface().([]string); ok && hide {
			return toJSON(redact.Command(words, redactNames...), hide)
		}
	case reflect.String:
		if hide {
			return redact.URLs(v.String())
		}
		return v.String()
	case reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64:
		return fmt.Sprint(v.Interface())
	}
	return toJSON(v.Interface(), hide)
}

// toJSON is v as compact JSON, "<" and ">" kept as they are; with hide,
// the passwords of URLs redacted.
func toJSON(v any, hide bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	s := strings.TrimSuffix(b.String(), "\n")
	if hide {
		return redact.URLs(s)
	}
	return s
}

// jsonName is the ECS JSON name of a Go field: ExecutionRoleArn → executionRoleArn.
func jsonName(goName string) string {
	r := []rune(goName)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}
