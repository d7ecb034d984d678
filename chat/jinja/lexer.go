package jinja

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF        tokKind = iota
	tData               // literal template text
	tVarBegin           // {{
	tVarEnd             // }}
	tBlockBegin         // {%
	tBlockEnd           // %}
	tName               // identifier or keyword
	tInt                // integer literal
	tFloat              // float literal
	tString             // string literal (already unescaped)
	tOp                 // operator or punctuation
)

type token struct {
	kind tokKind
	val  string
	line int
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tData:
		return "template data"
	case tVarBegin:
		return "'{{'"
	case tVarEnd:
		return "'}}'"
	case tBlockBegin:
		return "'{%'"
	case tBlockEnd:
		return "'%}'"
	case tString:
		return "string"
	}
	return "'" + t.val + "'"
}

// isPySpace is Python's str.isspace for one rune (the \s of Python's re).
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func trimRightPySpace(s string) string { return strings.TrimRightFunc(s, isPySpace) }

type lexer struct {
	name string
	src  string
	pos  int
	line int
	toks []token
}

// normalize applies Jinja2's source preprocessing: \r\n and \r become \n and,
// as keep_trailing_newline=False, one trailing newline is dropped.
func normalize(src string) string {
	if strings.IndexByte(src, '\r') >= 0 {
		src = strings.ReplaceAll(src, "\r\n", "\n")
		src = strings.ReplaceAll(src, "\r", "\n")
	}
	return strings.TrimSuffix(src, "\n")
}

// lex splits the source into tokens, applying whitespace control with
// trim_blocks and lstrip_blocks as Jinja2's lexer does.
func lex(name, src string) ([]token, error) {
	lx := &lexer{name: name, src: normalize(src), line: 1}
	if err := lx.run(); err != nil {
		return nil, err
	}
	return lx.toks, nil
}

func (lx *lexer) errf(line int, format string, args ...any) error {
	return newError(lx.name, line, format, args...)
}

func (lx *lexer) emit(k tokKind, val string, line int) {
	lx.toks = append(lx.toks, token{kind: k, val: val, line: line})
}

// advance moves pos to p, counting newlines.
func (lx *lexer) advance(p int) {
	lx.line += strings.Count(lx.src[lx.pos:p], "\n")
	lx.pos = p
}

// nextTag finds the next "{{", "{%" or "{#" at or after pos.
func (lx *lexer) nextTag() int {
	s := lx.src
	for i := lx.pos; ; {
		j := strings.IndexByte(s[i:], '{')
		if j < 0 || i+j+1 >= len(s) {
			return -1
		}
		i += j
		if c := s[i+1]; c == '{' || c == '%' || c == '#' {
			return i
		}
		i++
	}
}

func (lx *lexer) run() error {
	s := lx.src
	for lx.pos < len(s) {
		lineStart := lx.pos == 0 || s[lx.pos-1] == '\n'
		at := lx.nextTag()
		if at < 0 {
			lx.emit(tData, s[lx.pos:], lx.line)
			lx.advance(len(s))
			break
		}
		kind := s[at+1]
		sign := byte(0)
		if at+2 < len(s) && (s[at+2] == '-' || s[at+2] == '+') {
			sign = s[at+2]
		}
		text := s[lx.pos:at]
		isRaw := false
		if kind == '%' {
			isRaw = lx.isRawBegin(at)
		}
		switch {
		case sign == '-':
			text = trimRightPySpace(text)
		case sign != '+' && kind != '{':
			// lstrip_blocks: drop spaces between the line start and the tag.
			l := strings.LastIndexByte(text, '\n') + 1
			if l > 0 || lineStart {
				rest := text[l:]
				if rest != "" && strings.TrimLeftFunc(rest, isPySpace) == "" {
					text = text[:l]
				}
			}
		}
		if text != "" {
			lx.emit(tData, text, lx.line)
		}
		lx.advance(at)
		start := at + 2
		if sign != 0 {
			start++
		}
		switch {
		case isRaw:
			if err := lx.raw(at); err != nil {
				return err
			}
		case kind == '#':
			if err := lx.comment(start); err != nil {
				return err
			}
		default:
			if err := lx.tag(kind, start); err != nil {
				return err
			}
		}
	}
	lx.emit(tEOF, "", lx.line)
	return nil
}

func (lx *lexer) comment(start int) error {
	s := lx.src
	j := strings.Index(s[start:], "#}")
	if j < 0 {
		return lx.errf(lx.line, "missing end of comment tag")
	}
	end := start + j
	after := end + 2
	switch {
	case end > start && s[end-1] == '-':
		after = skipPySpace(s, after)
	case end > start && s[end-1] == '+':
	default:
		if after < len(s) && s[after] == '\n' {
			after++
		}
	}
	lx.advance(after)
	return nil
}

func skipPySpace(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isPySpace(r) {
			break
		}
		i += n
	}
	return i
}

// isRawBegin reports whether a "{% raw %}" tag starts at i.
func (lx *lexer) isRawBegin(i int) bool {
	s := lx.src
	i += 2
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	i = skipPySpace(s, i)
	if !strings.HasPrefix(s[i:], "raw") {
		return false
	}
	i = skipPySpace(s, i+3)
	return strings.HasPrefix(s[i:], "%}") || strings.HasPrefix(s[i:], "-%}")
}

// raw handles {% raw %}...{% endraw %}: the body is literal data.
func (lx *lexer) raw(at int) error {
	s := lx.src
	line := lx.line
	i := strings.Index(s[at:], "%}") + at
	bodyStart := i + 2
	if s[i-1] == '-' {
		bodyStart = skipPySpace(s, bodyStart)
	}
	// find {% endraw %}
	for k := bodyStart; ; {
		j := strings.Index(s[k:], "{%")
		if j < 0 {
			return lx.errf(line, "missing end of raw directive")
		}
		j += k
		p := j + 2
		sign := byte(0)
		if p < len(s) && (s[p] == '-' || s[p] == '+') {
			sign = s[p]
			p++
		}
		p = skipPySpace(s, p)
		if !strings.HasPrefix(s[p:], "endraw") {
			k = j + 2
			continue
		}
		p = skipPySpace(s, p+6)
		body := s[bodyStart:j]
		if sign == '-' {
			body = trimRightPySpace(body)
		} else if sign != '+' {
			l := strings.LastIndexByte(body, '\n') + 1
			if rest := body[l:]; rest != "" && strings.TrimLeftFunc(rest, isPySpace) == "" {
				body = body[:l]
			}
		}
		var after int
		switch {
		case strings.HasPrefix(s[p:], "-%}"):
			after = skipPySpace(s, p+3)
		case strings.HasPrefix(s[p:], "+%}"):
			after = p + 3
		case strings.HasPrefix(s[p:], "%}"):
			after = p + 2
			if after < len(s) && s[after] == '\n' {
				after++
			}
		default:
			return lx.errf(line, "missing end of raw directive")
		}
		if body != "" {
			lx.emit(tData, body, line)
		}
		lx.advance(after)
		return nil
	}
}

// tag lexes the inside of a {{ }} or {% %} tag starting at i.
func (lx *lexer) tag(kind byte, i int) error {
	s := lx.src
	beginLine := lx.line
	endKind, closeCh := tVarEnd, byte('}')
	if kind == '%' {
		lx.emit(tBlockBegin, "", lx.line)
		endKind, closeCh = tBlockEnd, '%'
	} else {
		lx.emit(tVarBegin, "", lx.line)
	}
	lx.advance(i)
	depth := 0
	for {
		i = lx.pos
		// whitespace
		j := skipPySpace(s, i)
		if j != i {
			lx.advance(j)
			i = j
		}
		if i >= len(s) {
			if kind == '%' {
				return lx.errf(beginLine, "unexpected end of template: missing '%%}'")
			}
			return lx.errf(beginLine, "unexpected end of template: missing '}}'")
		}
		c := s[i]
		if depth == 0 {
			// end of tag: "-X}", "+%}", "X}"
			if (c == '-' || c == '+' && kind == '%') && i+2 < len(s) && s[i+1] == closeCh && s[i+2] == '}' {
				after := i + 3
				if c == '-' {
					after = skipPySpace(s, after)
				}
				lx.emit(endKind, "", lx.line)
				lx.advance(after)
				return nil
			}
			if c == closeCh && i+1 < len(s) && s[i+1] == '}' {
				after := i + 2
				if kind == '%' && after < len(s) && s[after] == '\n' {
					after++ // trim_blocks
				}
				lx.emit(endKind, "", lx.line)
				lx.advance(after)
				return nil
			}
		}
		switch {
		case c == '\'' || c == '"':
			str, end, ok := scanString(s, i)
			if !ok && end == -1 {
				return lx.errf(lx.line, "\\N{...} escapes in string literals are not supported")
			}
			if !ok {
				return lx.errf(lx.line, "unterminated string literal or bad escape")
			}
			lx.emit(tString, str, lx.line)
			lx.advance(end)
		case c >= '0' && c <= '9':
			k, val, end := scanNumber(s, i)
			lx.emit(k, val, lx.line)
			lx.advance(end)
		case c == '_' || c < utf8.RuneSelf && unicode.IsLetter(rune(c)) || c >= utf8.RuneSelf:
			end := i
			for end < len(s) {
				r, n := utf8.DecodeRuneInString(s[end:])
				if r == '_' || unicode.IsLetter(r) || (end > i && unicode.IsDigit(r)) {
					end += n
					continue
				}
				break
			}
			if end == i {
				r, _ := utf8.DecodeRuneInString(s[i:])
				return lx.errf(lx.line, "unexpected char %q", r)
			}
			lx.emit(tName, s[i:end], lx.line)
			lx.advance(end)
		default:
			op := ""
			if i+1 < len(s) {
				switch s[i : i+2] {
				case "//", "**", "==", "!=", "<=", ">=":
					op = s[i : i+2]
				}
			}
			if op == "" {
				if strings.IndexByte("+-*/%~[](){}<>=.:|,;", c) < 0 {
					r, _ := utf8.DecodeRuneInString(s[i:])
					return lx.errf(lx.line, "unexpected char %q", r)
				}
				op = s[i : i+1]
			}
			switch op {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth == 0 {
					return lx.errf(lx.line, "unexpected '%s'", op)
				}
				depth--
			}
			lx.emit(tOp, op, lx.line)
			lx.advance(i + len(op))
		}
	}
}

// scanNumber lexes an integer or float literal (underscores allowed between
// digits, as Jinja2's lexer).
func scanNumber(s string, i int) (tokKind, string, int) {
	digits := func(j int) int {
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '_' && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' && s[j-1] != '_') {
			j++
		}
		return j
	}
	j := digits(i)
	kind := tInt
	if j+1 < len(s) && s[j] == '.' && s[j+1] >= '0' && s[j+1] <= '9' {
		j = digits(j + 1)
		kind = tFloat
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			j = digits(k)
			kind = tFloat
		}
	}
	return kind, strings.ReplaceAll(s[i:j], "_", ""), j
}

// scanString lexes a quoted literal at i and decodes its escapes the way
// Jinja2 does (Python's unicode-escape codec; unknown escapes are kept).
func scanString(s string, i int) (string, int, bool) {
	q := s[i]
	var b strings.Builder
	j := i + 1
	plain := j
	for j < len(s) {
		c := s[j]
		if c == q {
			if b.Len() == 0 && plain == i+1 {
				return s[i+1 : j], j + 1, true
			}
			b.WriteString(s[plain:j])
			return b.String(), j + 1, true
		}
		if c != '\\' {
			j++
			continue
		}
		b.WriteString(s[plain:j])
		if j+1 >= len(s) {
			return "", 0, false
		}
		e := s[j+1]
		j += 2
		switch e {
		case '\n':
		case '\\':
			b.WriteByte('\\')
		case '\'':
			b.WriteByte('\'')
		case '"':
			b.WriteByte('"')
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(11)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := rune(e - '0')
			for k := 0; k < 2 && j < len(s) && s[j] >= '0' && s[j] <= '7'; k++ {
				v = v*8 + rune(s[j]-'0')
				j++
			}
			b.WriteRune(v)
		case 'N':
			return "", -1, false // \N{name}: not supported (reported by the caller)
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if j+n > len(s) {
				return "", 0, false
			}
			var v rune
			for k := 0; k < n; k++ {
				h := s[j+k]
				switch {
				case h >= '0' && h <= '9':
					v = v*16 + rune(h-'0')
				case h >= 'a' && h <= 'f':
					v = v*16 + rune(h-'a'+10)
				case h >= 'A' && h <= 'F':
					v = v*16 + rune(h-'A'+10)
				default:
					return "", 0, false
				}
			}
			j += n
			b.WriteRune(v)
		default:
			b.WriteByte('\\')
			j-- // keep the character itself as literal text
		}
		plain = j
	}
	return "", 0, false
}
