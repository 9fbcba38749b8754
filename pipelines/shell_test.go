package pipelines_test

import "strings"

// shellCommand is one simple command: its words and its line (0-based).
type shellCommand struct {
	line  int
	words []string
}

// shellCommands splits a script into simple commands the way sh would for
// the parts that matter here: `\`-newline joins lines, quotes group words
// and are removed, `#` starts a comment, redirections (>file, 2>&1) are
// dropped, and ; & | && || ( ) $( ` and newlines end a command.
// Expansions ($VAR) are kept as written.
func shellCommands(script string) []shellCommand {
	lx := &shellLexer{src: script}
	for i := 0; i < len(script); i++ {
		i = lx.step(i)
		if len(lx.cur.words) == 0 && !lx.in && script[i] != '\n' {
			lx.cur.line = lx.line
		}
	}
	lx.endCmd()
	return lx.cmds
}

// shellLexer is shellCommands' state.
type shellLexer struct {
	src   string
	cmds  []shellCommand
	cur   shellCommand
	word  strings.Builder
	in    bool // a word is open (possibly empty, as in "")
	drop  bool // the open word is a redirection target, not an argument
	quote byte // the open quote, or 0
	line  int
}

// step consumes the byte at i (and any it owns) and returns the index of
// the last byte consumed.
func (lx *shellLexer) step(i int) int {
	c := lx.src[i]
	if c == '\n' {
		lx.line++
	}
	switch {
	case lx.quote != 0:
		return lx.quoted(i)
	case c == '\\' && i+1 < len(lx.src):
		i++
		if lx.src[i] == '\n' {
			lx.line++
			return i
		}
		lx.word.WriteByte(lx.src[i])
		lx.in = true
	case c == '\'' || c == '"':
		lx.quote, lx.in = c, true
	case c == '#' && !lx.in:
		for i+1 < len(lx.src) && lx.src[i+1] != '\n' {
			i++
		}
	case c == ' ' || c == '\t' || c == '\r':
		lx.endWord()
	case strings.IndexByte("\n;&|()`", c) >= 0:
		lx.endCmd()
	case c == '>' || c == '<':
		return lx.redirect(i)
	case c == '$' && i+1 < len(lx.src) && lx.src[i+1] == '(':
		lx.endCmd()
		return i + 1
	default:
		lx.word.WriteByte(c)
		lx.in = true
	}
	return i
}

// quoted handles a byte inside '...' or "...".
func (lx *shellLexer) quoted(i int) int {
	c := lx.src[i]
	switch {
	case c == lx.quote:
		lx.quote = 0
	case lx.quote == '"' && c == '\\' && i+1 < len(lx.src) && strings.IndexByte("\"\\$`\n", lx.src[i+1]) >= 0:
		i++
		if lx.src[i] == '\n' {
			lx.line++
		} else {
			lx.word.WriteByte(lx.src[i])
		}
	default:
		lx.word.WriteByte(c)
	}
	return i
}

// redirect drops a redirection: the fd before it (2>), the operator
// (> >> >& <), and its target word or fd.
func (lx *shellLexer) redirect(i int) int {
	if lx.in && strings.Trim(lx.word.String(), "0123456789") == "" {
		lx.word.Reset() // the 2 of 2>file
		lx.in = false
	}
	lx.endWord()
	for i+1 < len(lx.src) && strings.IndexByte("<>&|", lx.src[i+1]) >= 0 {
		i++
	}
	if lx.src[i] == '&' { // >&2: a file descriptor follows
		for i+1 < len(lx.src) && lx.src[i+1] >= '0' && lx.src[i+1] <= '9' {
			i++
		}
		return i
	}
	lx.drop = true
	return i
}

func (lx *shellLexer) endWord() {
	if !lx.in {
		return
	}
	if !lx.drop {
		lx.cur.words = append(lx.cur.words, lx.word.String())
	}
	lx.drop, lx.in = false, false
	lx.word.Reset()
}

func (lx *shellLexer) endCmd() {
	lx.endWord()
	if len(lx.cur.words) > 0 {
		lx.cmds = append(lx.cmds, lx.cur)
	}
	lx.cur, lx.drop = shellCommand{line: lx.line}, false
}
