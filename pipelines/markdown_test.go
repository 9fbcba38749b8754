package pipelines_test

import (
	"fmt"
	"regexp"
	"strings"
)

// shellFenceLanguages are the info strings of the fenced code blocks that
// are read as shell scripts; any other block (yaml, json, plain output) is
// left alone.
var shellFenceLanguages = map[string]bool{"sh": true, "bash": true, "shell": true}

// markdownScript is one shell code block: its text and the file line of its
// first line.
type markdownScript struct {
	firstLine int
	text      string
}

// markdownShellBlocks returns every ```sh (bash, shell) fenced block of a
// Markdown document, indented ones (inside list items) included.
func markdownShellBlocks(file string, src []byte) ([]markdownScript, error) {
	lines := strings.Split(string(src), "\n")
	var blocks []markdownScript
	for i := 0; i < len(lines); i++ {
		fence, lang, ok := openingFence(lines[i])
		if !ok {
			continue
		}
		start := i
		var body []string
		for i++; i < len(lines) && !closesFence(lines[i], fence); i++ {
			body = append(body, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("%s:%d: code block opened with %s is never closed", file, start+1, fence)
		}
		if shellFenceLanguages[lang] {
			blocks = append(blocks, markdownScript{firstLine: start + 2, text: strings.Join(body, "\n")})
		}
	}
	return blocks, nil
}

// openingFence reads a CommonMark fence opening (``` or ~~~, at least three,
// up to three spaces of indentation; more inside list items, which this
// README uses) and the first word of its info string.
func openingFence(line string) (fence, lang string, ok bool) {
	trimmed := strings.TrimLeft(line, " \t")
	for _, c := range []string{"`", "~"} {
		n := len(trimmed) - len(strings.TrimLeft(trimmed, c))
		if n >= 3 {
			info := strings.Fields(trimmed[n:])
			if len(info) > 0 {
				lang = strings.ToLower(info[0])
			}
			return strings.Repeat(c, n), lang, true
		}
	}
	return "", "", false
}

func closesFence(line, fence string) bool {
	trimmed := strings.TrimSpace(line)
	return strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == ""
}

// shellAssignment is NAME=value (or export NAME=value) alone on a line.
var shellAssignment = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// shellVariable is a word that is exactly $NAME or ${NAME}.
var shellVariable = regexp.MustCompile(`^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$`)

// markdownInvocations finds every dagger call in a Markdown document's shell
// blocks. Variables the document assigns in a shell block (AWS="--region
// ..."), wherever it does, are expanded where a call uses them as a whole
// word ($AWS), split on blanks as the shell splits an unquoted expansion; any
// other $VAR stays as written, including one assigned a command's output
// (REF=$(dagger call ...)), whose value the document does not show.
func markdownInvocations(file string, src []byte) ([]invocation, error) {
	blocks, err := markdownShellBlocks(file, src)
	if err != nil {
		return nil, err
	}
	vars := map[string][]string{}
	for _, b := range blocks {
		for _, cmd := range shellCommands(b.text) {
			words := cmd.words
			if len(words) == 2 && words[0] == "export" {
				words = words[1:]
			}
			// REF=$(...) reaches here as "REF=": the lexer ends the command at $(
			if m := shellAssignment.FindStringSubmatch(words[0]); len(words) == 1 && m != nil && m[2] != "" {
				vars[m[1]] = strings.Fields(m[2])
			}
		}
	}
	var out []invocation
	for _, b := range blocks {
		found, err := shellInvocations(file, b.firstLine, b.text)
		if err != nil {
			return nil, err
		}
		for _, inv := range found {
			inv.args = expandVariables(inv.args, vars)
			out = append(out, inv)
		}
	}
	return out, nil
}

func expandVariables(args []string, vars map[string][]string) []string {
	var out []string
	for _, a := range args {
		m := shellVariable.FindStringSubmatch(a)
		if m == nil {
			out = append(out, a)
			continue
		}
		value, ok := vars[m[1]+m[2]]
		if !ok {
			out = append(out, a)
			continue
		}
		out = append(out, value...)
	}
	return out
}
