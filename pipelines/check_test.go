package pipelines_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// coreFunctions are the core API calls a pipeline may chain after a function
// that returns a core type (e.g. `build ... export --path x`), with their
// flags (true = boolean) and result type. A short, known list on purpose:
// a pipeline that needs more should extend it here.
var coreFunctions = map[string]map[string]funcSpec{
	"Container": {
		"export":     {flags: flags("!path", "forced-compression", "media-types", "expand", "?platform-variants"), result: ""},
		"publish":    {flags: flags("!address", "forced-compression", "media-types", "?platform-variants"), result: ""},
		"stdout":     {flags: flags(), result: ""},
		"stderr":     {flags: flags(), result: ""},
		"sync":       {flags: flags(), result: ""},
		"terminal":   {flags: flags("cmd", "?experimental-privileged-nesting", "?insecure-root-capabilities"), result: "Container"},
		"directory":  {flags: flags("!path", "?expand"), result: "Directory"},
		"file":       {flags: flags("!path", "?expand"), result: "File"},
		"with-exec":  {flags: flags("!args", "?use-entrypoint", "?expand", "stdin", "redirect-stdout", "redirect-stderr", "expect"), result: "Container"},
		"as-tarball": {flags: flags("forced-compression", "media-types", "?platform-variants"), result: "File"},
	},
	"Directory": {
		"export":    {flags: flags("!path", "?wipe"), result: ""},
		"entries":   {flags: flags("path"), result: ""},
		"glob":      {flags: flags("!pattern"), result: ""},
		"file":      {flags: flags("!path"), result: "File"},
		"directory": {flags: flags("!path"), result: "Directory"},
		"digest":    {flags: flags(), result: ""},
		"sync":      {flags: flags(), result: ""},
		"terminal":  {flags: flags("cmd", "container"), result: "Directory"},
	},
	"Service": {
		"up":       {flags: flags("ports", "?random"), result: ""},
		"endpoint": {flags: flags("port", "scheme"), result: ""},
		"hostname": {flags: flags(), result: ""},
		"start":    {flags: flags(), result: "Service"},
		"stop":     {flags: flags("?kill"), result: "Service"},
	},
	"File": {
		"contents": {flags: flags(), result: ""},
		"export":   {flags: flags("!path", "?allow-parent-dir-path"), result: ""},
		"name":     {flags: flags(), result: ""},
		"size":     {flags: flags(), result: ""},
		"digest":   {flags: flags(), result: ""},
	},
}

// flags builds a flag set; a leading "?" marks a boolean flag, a leading "!"
// a required one.
func flags(names ...string) map[string]flagSpec {
	m := map[string]flagSpec{}
	for _, n := range names {
		spec := flagSpec{isBool: strings.HasPrefix(n, "?"), required: strings.HasPrefix(n, "!")}
		m[strings.TrimLeft(n, "?!")] = spec
	}
	return m
}

// check validates one invocation against the module: constructor flags, then
// a chain of functions, each followed by its own flags. The dagger CLI's own
// flags (-o, --json, ...) are accepted anywhere.
func (api *moduleAPI) check(inv invocation) error {
	args := inv.args
	i, err := consumeFlags(args, 0, api.constructor, "the constructor (flags before the function name)",
		fmt.Sprintf("%s: dagger call", inv.where))
	if err != nil {
		return err
	}
	if i == len(args) {
		return fmt.Errorf("%s: dagger call names no function; %s has: %s", inv.where, api.root, names(api.objects[api.root]))
	}
	object, chain := api.root, "dagger call"
	for i < len(args) {
		name := args[i]
		fns, ok := api.objects[object]
		if !ok {
			fns, ok = coreFunctions[object]
		}
		if !ok {
			return fmt.Errorf("%s: %s returns %s, which has no functions to chain; %q cannot follow it",
				inv.where, chain, describe(object), name)
		}
		fn, ok := fns[name]
		if !ok {
			return fmt.Errorf("%s: %s %s: unknown function %q on %s; it has: %s",
				inv.where, chain, name, name, object, names(fns))
		}
		chain += " " + name
		if i, err = consumeFlags(args, i+1, fn.flags, fmt.Sprintf("%q", name), inv.where+": "+chain); err != nil {
			return err
		}
		object = fn.result
	}
	return nil
}

// secretSource is what the dagger CLI accepts as a secret flag's value:
// env:NAME (the variable's name, never its $expansion), file:, cmd:, or a
// secret manager URI.
var secretSource = regexp.MustCompile(`^(env:(//)?[A-Za-z_][A-Za-z0-9_]*|file:.+|cmd:.+|(op|vault|libsecret)://.+)$`)

// consumeFlags reads --flag, --flag=value and --flag value words from
// args[i:] until the next non-flag word, and returns that word's index. It
// fails when a required flag is missing or a secret flag's value is not a
// secret source.
func consumeFlags(args []string, i int, allowed map[string]flagSpec, owner, at string) (int, error) {
	given := map[string]bool{}
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		name := flagName(args[i])
		value, hasValue := strings.CutPrefix(args[i], name+"=")
		if spec, ok := allowed[strings.TrimPrefix(name, "--")]; ok && strings.HasPrefix(name, "--") {
			if !spec.isBool && !hasValue {
				if i+1 >= len(args) {
					return 0, fmt.Errorf("%s: flag %s of %s needs a value", at, name, owner)
				}
				i++
				value = args[i]
			}
			if spec.isSecret && !secretSource.MatchString(value) {
				return 0, fmt.Errorf("%s: flag %s of %s is a secret: pass env:NAME (the variable's name, not $NAME), file:PATH or cmd:COMMAND, not %q",
					at, name, owner, value)
			}
			given[strings.TrimPrefix(name, "--")] = true
			i++
			continue
		}
		if takesValue, ok := daggerGlobalFlags[name]; ok {
			if takesValue && !hasValue {
				i++
			}
			i++
			continue
		}
		return 0, fmt.Errorf("%s: unknown flag %s for %s; its flags are: %s", at, name, owner, flagList(allowed))
	}
	var missing []string
	for name, spec := range allowed {
		if spec.required && !given[name] {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return 0, fmt.Errorf("%s: %s needs %s, which the call does not pass", at, owner, strings.Join(missing, ", "))
	}
	return i, nil
}

func flagList(allowed map[string]flagSpec) string {
	if len(allowed) == 0 {
		return "(none)"
	}
	return "--" + strings.ReplaceAll(names(allowed), ", ", ", --")
}

func describe(object string) string {
	if object == "" {
		return "a scalar (string, number, list)"
	}
	return object
}
