package pipelines_test

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// invocation is one `dagger call` found in a pipeline file: the words after
// `call`, with where it was found for error messages.
type invocation struct {
	where string   // file:line
	args  []string // words after "call", quotes removed
}

// daggerGlobalFlags are the dagger CLI's own flags that may appear between
// `dagger` and `call` or among the call's words; true means it takes a value.
var daggerGlobalFlags = map[string]bool{
	// as `dagger call --help` of v0.21.8 lists them
	"-m": true, "--mod": true, "-M": false, "--no-mod": false, "--progress": true, "-o": true, "--output": true,
	"--workdir": true, "-E": false, "--no-exit": false, "-y": false, "--auto-apply": false,
	"--json": false, "-j": false, "-s": false, "--silent": false, "-q": false, "--quiet": false,
	"-v": false, "-vv": false, "-vvv": false, "--verbose": false, "--debug": false, "-d": false,
	"-i": false, "--interactive": false, "--interactive-command": true, "--lock": true,
	"-w": false, "--web": false, "--x-release": true, "--allow-llm": true, "--eager-runtime": false, "--cloud": false,
}

// shellInvocations finds every `dagger ... call ...` command in a shell
// script. firstLine is the script's line in its file, for messages.
func shellInvocations(file string, firstLine int, script string) ([]invocation, error) {
	var out []invocation
	for _, cmd := range shellCommands(script) {
		words := cmd.words
		for i, w := range words {
			if path.Base(w) != "dagger" {
				continue
			}
			j := i + 1
			for j < len(words) && strings.HasPrefix(words[j], "-") {
				takesValue, known := daggerGlobalFlags[flagName(words[j])]
				if !known {
					return nil, fmt.Errorf("%s:%d: unknown dagger CLI flag %s before \"call\"", file, firstLine+cmd.line, words[j])
				}
				if takesValue && !strings.Contains(words[j], "=") {
					j++
				}
				j++
			}
			if j < len(words) && words[j] == "call" {
				out = append(out, invocation{where: fmt.Sprintf("%s:%d", file, firstLine+cmd.line), args: words[j+1:]})
			}
			break
		}
	}
	return out, nil
}

// flagName is "--flag" of "--flag=value".
func flagName(word string) string {
	name, _, _ := strings.Cut(word, "=")
	return name
}

// yamlInvocations walks every string in a YAML document (CodeBuild's
// commands, Bitbucket's script lines, block scalars) as a shell script.
func yamlInvocations(file string, src []byte) ([]invocation, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse %s as YAML: %w", file, err)
	}
	var out []invocation
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "dagger") {
			first := n.Line
			if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				first++ // a block scalar's text starts on the line after | or >
			}
			found, err := shellInvocations(file, first, n.Value)
			if err != nil {
				return err
			}
			out = append(out, found...)
		}
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(&doc)
}

// jenkinsShStep matches the opening of a declarative/scripted sh step:
// sh '...', sh "...", sh ”'...”', sh """...""", sh(script: '...', ...).
var jenkinsShStep = regexp.MustCompile(`\bsh\s*\(?\s*(?:script\s*:\s*)?('''|"""|'|")`)

// jenkinsInvocations extracts the body of every sh step in a Jenkinsfile,
// undoes Groovy's string escapes, and reads it as a shell script.
// Whole-line // comments are ignored.
func jenkinsInvocations(file string, src []byte) ([]invocation, error) {
	text := blankGroovyLineComments(string(src))
	var out []invocation
	for _, m := range jenkinsShStep.FindAllStringSubmatchIndex(text, -1) {
		delim := text[m[2]:m[3]]
		body, ok := groovyStringBody(text[m[3]:], delim)
		if !ok {
			return nil, fmt.Errorf("%s:%d: sh step string opened with %s is never closed", file, lineAt(text, m[0]), delim)
		}
		found, err := shellInvocations(file, lineAt(text, m[3]), groovyUnescape(body))
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

func blankGroovyLineComments(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "//") {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

// groovyStringBody returns the text up to the closing delim, skipping
// backslash escapes.
func groovyStringBody(rest, delim string) (string, bool) {
	for i := 0; i < len(rest); i++ {
		if rest[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(rest[i:], delim) {
			return rest[:i], true
		}
	}
	return "", false
}

// groovyUnescape applies the escapes Groovy resolves before sh sees the
// script. A backslash-newline is a Groovy line continuation in every
// string form; keeping it as a newline preserves line numbers and the
// shell joins the words the same way.
func groovyUnescape(s string) string {
	r := strings.NewReplacer(`\\`+"\n", "\\\n", `\\`, `\`, `\'`, `'`, `\"`, `"`, `\$`, `$`, "\\\n", " \\\n")
	return r.Replace(s)
}

func lineAt(text string, offset int) int {
	return strings.Count(text[:offset], "\n") + 1
}
