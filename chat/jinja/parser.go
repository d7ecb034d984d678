package jinja

import (
	"math/big"
	"strconv"
	"strings"
)

type parser struct {
	name string
	toks []token
	pos  int
	// blocks is the stack of open block tags, for error messages.
	blocks []string
	depth  int // expression nesting, bounded by maxNesting
}

const maxNesting = 256

func (p *parser) cur() token  { return p.toks[p.pos] }
func (p *parser) peek() token { return p.toks[min(p.pos+1, len(p.toks)-1)] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}

func (p *parser) errf(line int, format string, args ...any) error {
	return newError(p.name, line, format, args...)
}

func (p *parser) isOp(op string) bool {
	t := p.cur()
	return t.kind == tOp && t.val == op
}

func (p *parser) isName(n string) bool {
	t := p.cur()
	return t.kind == tName && t.val == n
}

func (p *parser) skipOp(op string) bool {
	if p.isOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) skipName(n string) bool {
	if p.isName(n) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectOp(op string) error {
	if !p.skipOp(op) {
		t := p.cur()
		return p.errf(t.line, "expected '%s', got %s", op, t.describe())
	}
	return nil
}

func (p *parser) expectName() (token, error) {
	t := p.cur()
	if t.kind != tName {
		return t, p.errf(t.line, "expected a name, got %s", t.describe())
	}
	p.next()
	return t, nil
}

func (p *parser) expectBlockEnd() error {
	t := p.cur()
	if t.kind != tBlockEnd {
		return p.errf(t.line, "expected end of statement block, got %s", t.describe())
	}
	p.next()
	return nil
}

// parseTemplate parses the whole token stream.
func (p *parser) parseTemplate() ([]stmt, error) {
	body, end, err := p.subparse(nil)
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, p.errf(p.cur().line, "unexpected '%s'", end)
	}
	return body, nil
}

// subparse parses statements until one of the end tags (returned, with the
// parser positioned after the tag name) or the end of the template.
func (p *parser) subparse(ends []string) ([]stmt, string, error) {
	if len(p.blocks) > maxNesting {
		return nil, "", p.errf(p.cur().line, "blocks nested too deeply")
	}
	var body []stmt
	for {
		t := p.cur()
		switch t.kind {
		case tEOF:
			if len(ends) > 0 {
				inner := p.blocks[len(p.blocks)-1]
				return nil, "", p.errf(t.line, "unexpected end of template: missing %s (the innermost open block is '%s')", quoteList(ends), inner)
			}
			return body, "", nil
		case tData:
			p.next()
			body = append(body, &dataNode{text: t.val})
		case tVarBegin:
			p.next()
			e, err := p.parseTuple(false)
			if err != nil {
				return nil, "", err
			}
			if p.cur().kind != tVarEnd {
				return nil, "", p.errf(p.cur().line, "expected end of print statement, got %s", p.cur().describe())
			}
			p.next()
			body = append(body, &outputNode{x: e, line: t.line})
		case tBlockBegin:
			p.next()
			nt := p.cur()
			if nt.kind != tName {
				return nil, "", p.errf(nt.line, "expected a tag name, got %s", nt.describe())
			}
			for _, e := range ends {
				if nt.val == e {
					p.next()
					return body, e, nil
				}
			}
			if endTags[nt.val] && len(ends) > 0 {
				return nil, "", p.errf(nt.line, "unexpected '%s': expected %s (the innermost open block is '%s')", nt.val, quoteList(ends), p.blocks[len(p.blocks)-1])
			}
			s, err := p.parseStatement()
			if err != nil {
				return nil, "", err
			}
			if s != nil {
				body = append(body, s)
			}
		default:
			return nil, "", p.errf(t.line, "unexpected %s", t.describe())
		}
	}
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'{% " + x + " %}'"
	}
	return strings.Join(q, " or ")
}

var endTags = map[string]bool{"endif": true, "endfor": true, "endmacro": true, "endset": true, "else": true, "elif": true, "endfilter": true, "endgeneration": true, "endcall": true, "endraw": true}

func (p *parser) parseStatement() (stmt, error) {
	t := p.next()
	switch t.val {
	case "if":
		return p.parseIf(t)
	case "for":
		return p.parseFor(t)
	case "set":
		return p.parseSet(t)
	case "macro":
		return p.parseMacro(t)
	case "break", "continue":
		if !p.inLoop() {
			return nil, p.errf(t.line, "'%s' outside of a for loop", t.val)
		}
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		return &loopCtlNode{isBreak: t.val == "break"}, nil
	case "filter":
		return p.parseFilterBlock(t)
	case "generation":
		// HF's AssistantTracker extension: the body renders as is.
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		p.blocks = append(p.blocks, "generation")
		body, _, err := p.subparse([]string{"endgeneration"})
		if err != nil {
			return nil, err
		}
		p.blocks = p.blocks[:len(p.blocks)-1]
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		return &blockNode{body: body}, nil
	}
	if endTags[t.val] {
		return nil, p.errf(t.line, "unexpected '%s' (no open block it can close)", t.val)
	}
	return nil, p.errf(t.line, "unknown or unsupported tag '%s'", t.val)
}

func (p *parser) inLoop() bool {
	for i := len(p.blocks) - 1; i >= 0; i-- {
		switch p.blocks[i] {
		case "for":
			return true
		case "macro":
			return false
		}
	}
	return false
}

func (p *parser) parseIf(t token) (stmt, error) {
	n := &ifNode{line: t.line}
	if len(p.blocks) > maxNesting {
		return nil, p.errf(t.line, "blocks nested too deeply")
	}
	p.blocks = append(p.blocks, "if")
	defer func() { p.blocks = p.blocks[:len(p.blocks)-1] }()
	for {
		cond, err := p.parseTuple(false)
		if err != nil {
			return nil, err
		}
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		body, end, err := p.subparse([]string{"elif", "else", "endif"})
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, body)
		switch end {
		case "elif":
			continue
		case "else":
			if err := p.expectBlockEnd(); err != nil {
				return nil, err
			}
			n.els, _, err = p.subparse([]string{"endif"})
			if err != nil {
				return nil, err
			}
		}
		return n, p.expectBlockEnd()
	}
}

// parseAssignTarget parses a name, a tuple of names, or (with allowAttr)
// name.attr for namespace assignment.
func (p *parser) parseAssignTarget(allowAttr bool) (target, error) {
	var tg target
	t, err := p.expectName()
	if err != nil {
		return tg, err
	}
	if allowAttr && p.isOp(".") {
		p.next()
		a, err := p.expectName()
		if err != nil {
			return tg, err
		}
		return target{names: []string{t.val}, attr: a.val, line: t.line}, nil
	}
	tg = target{names: []string{t.val}, line: t.line}
	paren := false
	for p.isOp(",") {
		p.next()
		if allowAttr && p.isOp("=") {
			break
		}
		if p.isName("in") {
			break
		}
		n, err := p.expectName()
		if err != nil {
			return tg, err
		}
		tg.names = append(tg.names, n.val)
		tg.tuple = true
	}
	if len(tg.names) > 1 || paren {
		tg.tuple = true
	}
	for _, n := range tg.names {
		if n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None" {
			return tg, p.errf(t.line, "cannot assign to '%s'", n)
		}
	}
	return tg, nil
}

func (p *parser) parseFor(t token) (stmt, error) {
	n := &forNode{line: t.line}
	var err error
	if p.isOp("(") {
		p.next()
		if n.target, err = p.parseAssignTarget(false); err != nil {
			return nil, err
		}
		n.target.tuple = true
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
	} else if n.target, err = p.parseAssignTarget(false); err != nil {
		return nil, err
	}
	if !p.skipName("in") {
		return nil, p.errf(p.cur().line, "expected 'in', got %s", p.cur().describe())
	}
	if n.iter, err = p.parseTupleNoCond(); err != nil {
		return nil, err
	}
	if p.skipName("if") {
		if n.cond, err = p.parseTuple(false); err != nil {
			return nil, err
		}
	}
	if p.isName("recursive") {
		return nil, p.errf(p.cur().line, "recursive for loops are not supported")
	}
	if err := p.expectBlockEnd(); err != nil {
		return nil, err
	}
	if len(p.blocks) > maxNesting {
		return nil, p.errf(t.line, "blocks nested too deeply")
	}
	p.blocks = append(p.blocks, "for")
	body, end, err := p.subparse([]string{"endfor", "else"})
	if err != nil {
		return nil, err
	}
	p.blocks = p.blocks[:len(p.blocks)-1]
	n.body = body
	if end == "else" {
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		p.blocks = append(p.blocks, "for-else")
		n.els, _, err = p.subparse([]string{"endfor"})
		if err != nil {
			return nil, err
		}
		p.blocks = p.blocks[:len(p.blocks)-1]
	}
	return n, p.expectBlockEnd()
}

func (p *parser) parseSet(t token) (stmt, error) {
	tg, err := p.parseAssignTarget(true)
	if err != nil {
		return nil, err
	}
	if p.skipOp("=") {
		e, err := p.parseTuple(false)
		if err != nil {
			return nil, err
		}
		if err := p.expectBlockEnd(); err != nil {
			return nil, err
		}
		return &setNode{target: tg, x: e, line: t.line}, nil
	}
	if tg.attr != "" || tg.tuple {
		return nil, p.errf(t.line, "expected '=' in set statement")
	}
	// block set, with optional filters
	var filters []*filterExpr
	for p.skipOp("|") {
		f, err := p.parseFilter(nil)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
	}
	if err := p.expectBlockEnd(); err != nil {
		return nil, err
	}
	p.blocks = append(p.blocks, "set")
	body, _, err := p.subparse([]string{"endset"})
	if err != nil {
		return nil, err
	}
	p.blocks = p.blocks[:len(p.blocks)-1]
	return &setBlockNode{name: tg.names[0], body: body, filters: filters, line: t.line}, p.expectBlockEnd()
}

func (p *parser) parseFilterBlock(t token) (stmt, error) {
	var filters []*filterExpr
	for {
		f, err := p.parseFilter(nil)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
		if !p.skipOp("|") {
			break
		}
	}
	if err := p.expectBlockEnd(); err != nil {
		return nil, err
	}
	p.blocks = append(p.blocks, "filter")
	body, _, err := p.subparse([]string{"endfilter"})
	if err != nil {
		return nil, err
	}
	p.blocks = p.blocks[:len(p.blocks)-1]
	return &filterBlockNode{body: body, filters: filters, line: t.line}, p.expectBlockEnd()
}

func (p *parser) parseMacro(t token) (stmt, error) {
	nt, err := p.expectName()
	if err != nil {
		return nil, err
	}
	m := &macroNode{name: nt.val, line: t.line}
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	for !p.isOp(")") {
		if len(m.params) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.isOp(")") {
				break
			}
		}
		a, err := p.expectName()
		if err != nil {
			return nil, err
		}
		var def expr
		if p.skipOp("=") {
			if def, err = p.parseExpr(); err != nil {
				return nil, err
			}
		} else if len(m.defaults) > 0 && m.defaults[len(m.defaults)-1] != nil {
			return nil, p.errf(a.line, "non-default argument follows default argument")
		}
		m.params = append(m.params, a.val)
		m.defaults = append(m.defaults, def)
	}
	p.next()
	if err := p.expectBlockEnd(); err != nil {
		return nil, err
	}
	p.blocks = append(p.blocks, "macro")
	m.body, _, err = p.subparse([]string{"endmacro"})
	if err != nil {
		return nil, err
	}
	p.blocks = p.blocks[:len(p.blocks)-1]
	if p.cur().kind == tName && p.cur().val == m.name {
		p.next()
	}
	return m, p.expectBlockEnd()
}

// ---- expressions ----

// parseTuple parses an expression, or a tuple if commas follow.
func (p *parser) parseTuple(noCond bool) (expr, error) {
	line := p.cur().line
	parse := p.parseExpr
	if noCond {
		parse = p.parseOr
	}
	first, err := parse()
	if err != nil {
		return nil, err
	}
	if !p.isOp(",") {
		return first, nil
	}
	items := []expr{first}
	for p.skipOp(",") {
		if p.tupleEnds() {
			break
		}
		e, err := parse()
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	return &listExpr{items: items, tuple: true, line: line}, nil
}

func (p *parser) parseTupleNoCond() (expr, error) { return p.parseTuple(true) }

func (p *parser) tupleEnds() bool {
	t := p.cur()
	switch t.kind {
	case tVarEnd, tBlockEnd, tEOF:
		return true
	case tOp:
		return t.val == ")" || t.val == "]" || t.val == "}" || t.val == "="
	case tName:
		return t.val == "in" || t.val == "if" || t.val == "recursive"
	}
	return false
}

func (p *parser) parseExpr() (expr, error) {
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	for p.isName("if") {
		line := p.next().line
		cond, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		var els expr
		if p.skipName("else") {
			if els, err = p.parseExpr(); err != nil {
				return nil, err
			}
		}
		x = &condExpr{cond: cond, a: x, b: els, line: line}
	}
	return x, nil
}

func (p *parser) parseOr() (expr, error) {
	x, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isName("or") {
		p.next()
		y, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		x = &logicExpr{or: true, a: x, b: y}
	}
	return x, nil
}

func (p *parser) parseAnd() (expr, error) {
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isName("and") {
		p.next()
		y, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		x = &logicExpr{a: x, b: y}
	}
	return x, nil
}

func (p *parser) parseNot() (expr, error) {
	if p.isName("not") {
		if p.depth++; p.depth > maxNesting {
			return nil, p.errf(p.cur().line, "expression nested too deeply")
		}
		defer func() { p.depth-- }()
		p.next()
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &notExpr{x: x}, nil
	}
	return p.parseCompare()
}

func (p *parser) parseCompare() (expr, error) {
	line := p.cur().line
	x, err := p.parseMath1()
	if err != nil {
		return nil, err
	}
	var c *compareExpr
	for {
		var op string
		t := p.cur()
		switch {
		case t.kind == tOp && (t.val == "==" || t.val == "!=" || t.val == "<" || t.val == "<=" || t.val == ">" || t.val == ">="):
			op = t.val
			p.next()
		case t.kind == tName && t.val == "in":
			op = "in"
			p.next()
		case t.kind == tName && t.val == "not" && p.peek().kind == tName && p.peek().val == "in":
			op = "not in"
			p.next()
			p.next()
		}
		if op == "" {
			break
		}
		y, err := p.parseMath1()
		if err != nil {
			return nil, err
		}
		if c == nil {
			c = &compareExpr{first: x, line: line}
		}
		c.ops = append(c.ops, op)
		c.rest = append(c.rest, y)
	}
	if c == nil {
		return x, nil
	}
	return c, nil
}

func (p *parser) parseMath1() (expr, error) {
	x, err := p.parseConcat()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		t := p.next()
		y, err := p.parseConcat()
		if err != nil {
			return nil, err
		}
		if t.val == "+" {
			if c, ok := x.(*plusChain); ok {
				c.xs = append(c.xs, y)
				c.lines = append(c.lines, t.line)
			} else {
				x = &plusChain{xs: []expr{x, y}, lines: []int{t.line}}
			}
			continue
		}
		x = &binExpr{op: t.val, a: x, b: y, line: t.line}
	}
	return x, nil
}

func (p *parser) parseConcat() (expr, error) {
	x, err := p.parseMath2()
	if err != nil {
		return nil, err
	}
	if !p.isOp("~") {
		return x, nil
	}
	c := &concatExpr{parts: []expr{x}}
	for p.skipOp("~") {
		y, err := p.parseMath2()
		if err != nil {
			return nil, err
		}
		c.parts = append(c.parts, y)
	}
	return c, nil
}

func (p *parser) parseMath2() (expr, error) {
	x, err := p.parsePow()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isOp("//") || p.isOp("%") {
		t := p.next()
		y, err := p.parsePow()
		if err != nil {
			return nil, err
		}
		x = &binExpr{op: t.val, a: x, b: y, line: t.line}
	}
	return x, nil
}

func (p *parser) parsePow() (expr, error) {
	x, err := p.parseUnary(true)
	if err != nil {
		return nil, err
	}
	for p.isOp("**") {
		t := p.next()
		y, err := p.parseUnary(true)
		if err != nil {
			return nil, err
		}
		x = &binExpr{op: "**", a: x, b: y, line: t.line}
	}
	return x, nil
}

func (p *parser) parseUnary(withFilter bool) (expr, error) {
	if p.depth++; p.depth > maxNesting {
		return nil, p.errf(p.cur().line, "expression nested too deeply")
	}
	defer func() { p.depth-- }()
	var x expr
	var err error
	t := p.cur()
	switch {
	case t.kind == tOp && (t.val == "-" || t.val == "+"):
		p.next()
		y, err := p.parseUnary(false)
		if err != nil {
			return nil, err
		}
		x = &unaryExpr{neg: t.val == "-", x: y, line: t.line}
	default:
		if x, err = p.parsePrimary(); err != nil {
			return nil, err
		}
		if x, err = p.parsePostfix(x); err != nil {
			return nil, err
		}
	}
	if withFilter {
		return p.parseFilterExpr(x)
	}
	return x, nil
}

func (p *parser) parsePrimary() (expr, error) {
	t := p.cur()
	switch t.kind {
	case tName:
		p.next()
		switch t.val {
		case "true", "True":
			return &constExpr{v: true}, nil
		case "false", "False":
			return &constExpr{v: false}, nil
		case "none", "None":
			return &constExpr{v: nil}, nil
		}
		return &nameExpr{name: t.val, line: t.line}, nil
	case tString:
		p.next()
		s := t.val
		for p.cur().kind == tString {
			s += p.next().val
		}
		return &constExpr{v: s}, nil
	case tInt:
		p.next()
		if n, err := strconv.ParseInt(t.val, 10, 64); err == nil {
			return &constExpr{v: n}, nil
		}
		b, ok := new(big.Int).SetString(t.val, 10)
		if !ok {
			return nil, p.errf(t.line, "bad integer literal %q", t.val)
		}
		return &constExpr{v: b}, nil
	case tFloat:
		p.next()
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil && !isRangeErr(err) {
			return nil, p.errf(t.line, "bad float literal %q", t.val)
		}
		return &constExpr{v: f}, nil
	case tOp:
		switch t.val {
		case "(":
			p.next()
			if p.skipOp(")") {
				return &listExpr{tuple: true, line: t.line}, nil
			}
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			if p.isOp(",") {
				items := []expr{e}
				for p.skipOp(",") {
					if p.isOp(")") {
						break
					}
					y, err := p.parseExpr()
					if err != nil {
						return nil, err
					}
					items = append(items, y)
				}
				e = &listExpr{items: items, tuple: true, line: t.line}
			}
			return e, p.expectOp(")")
		case "[":
			p.next()
			l := &listExpr{line: t.line}
			for !p.isOp("]") {
				if len(l.items) > 0 {
					if err := p.expectOp(","); err != nil {
						return nil, err
					}
					if p.isOp("]") {
						break
					}
				}
				e, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				l.items = append(l.items, e)
			}
			p.next()
			return l, nil
		case "{":
			p.next()
			d := &dictExpr{line: t.line}
			for !p.isOp("}") {
				if len(d.keys) > 0 {
					if err := p.expectOp(","); err != nil {
						return nil, err
					}
					if p.isOp("}") {
						break
					}
				}
				k, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(":"); err != nil {
					return nil, err
				}
				v, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				d.keys = append(d.keys, k)
				d.vals = append(d.vals, v)
			}
			p.next()
			return d, nil
		}
	}
	return nil, p.errf(t.line, "unexpected %s", t.describe())
}

func (p *parser) parsePostfix(x expr) (expr, error) {
	for {
		t := p.cur()
		if t.kind != tOp {
			return x, nil
		}
		switch t.val {
		case ".":
			p.next()
			a := p.next()
			switch a.kind {
			case tName:
				x = &getattrExpr{obj: x, name: a.val, line: a.line}
			case tInt:
				n, _ := strconv.ParseInt(a.val, 10, 64)
				x = &getitemExpr{obj: x, key: &constExpr{v: n}, line: a.line}
			default:
				return nil, p.errf(a.line, "expected a name after '.', got %s", a.describe())
			}
		case "[":
			p.next()
			e, err := p.parseSubscript(x, t.line)
			if err != nil {
				return nil, err
			}
			x = e
		case "(":
			c, err := p.parseCall(x, t.line)
			if err != nil {
				return nil, err
			}
			x = c
		default:
			return x, nil
		}
	}
}

func (p *parser) parseSubscript(obj expr, line int) (expr, error) {
	var parts [3]expr
	n := 0
	isSlice := false
	for {
		if p.isOp(":") {
			isSlice = true
			p.next()
			n++
			if n > 2 {
				return nil, p.errf(line, "invalid slice")
			}
			continue
		}
		if p.isOp("]") {
			p.next()
			break
		}
		if parts[n] != nil {
			return nil, p.errf(p.cur().line, "expected ']' got %s", p.cur().describe())
		}
		e, err := p.parseTuple(false)
		if err != nil {
			return nil, err
		}
		parts[n] = e
	}
	if !isSlice {
		if parts[0] == nil {
			return nil, p.errf(line, "empty subscript")
		}
		return &getitemExpr{obj: obj, key: parts[0], line: line}, nil
	}
	return &sliceExpr{obj: obj, start: parts[0], stop: parts[1], step: parts[2], line: line}, nil
}

func (p *parser) parseArgs() ([]expr, []kwarg, error) {
	if err := p.expectOp("("); err != nil {
		return nil, nil, err
	}
	var args []expr
	var kws []kwarg
	for !p.isOp(")") {
		if len(args)+len(kws) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, nil, err
			}
			if p.isOp(")") {
				break
			}
		}
		if p.isOp("*") || p.isOp("**") {
			return nil, nil, p.errf(p.cur().line, "*args and **kwargs in calls are not supported")
		}
		if p.cur().kind == tName && p.peek().kind == tOp && p.peek().val == "=" {
			k := p.next()
			p.next()
			v, err := p.parseExpr()
			if err != nil {
				return nil, nil, err
			}
			kws = append(kws, kwarg{name: k.val, x: v})
			continue
		}
		if len(kws) > 0 {
			return nil, nil, p.errf(p.cur().line, "positional argument follows keyword argument")
		}
		v, err := p.parseExpr()
		if err != nil {
			return nil, nil, err
		}
		args = append(args, v)
	}
	p.next()
	return args, kws, nil
}

func (p *parser) parseCall(fn expr, line int) (expr, error) {
	args, kws, err := p.parseArgs()
	if err != nil {
		return nil, err
	}
	return &callExpr{fn: fn, args: args, kwargs: kws, line: line}, nil
}

func (p *parser) parseFilterExpr(x expr) (expr, error) {
	for {
		switch {
		case p.isOp("|"):
			p.next()
			f, err := p.parseFilter(x)
			if err != nil {
				return nil, err
			}
			x = f
		case p.isName("is"):
			p.next()
			t, err := p.parseTest(x)
			if err != nil {
				return nil, err
			}
			x = t
		case p.isOp("("):
			c, err := p.parseCall(x, p.cur().line)
			if err != nil {
				return nil, err
			}
			x = c
		default:
			return x, nil
		}
	}
}

func (p *parser) parseFilter(x expr) (*filterExpr, error) {
	t, err := p.expectName()
	if err != nil {
		return nil, err
	}
	name := t.val
	for p.isOp(".") {
		p.next()
		n, err := p.expectName()
		if err != nil {
			return nil, err
		}
		name += "." + n.val
	}
	fn, ok := filters[name]
	if !ok {
		return nil, p.errf(t.line, "unknown filter %q", name)
	}
	f := &filterExpr{x: x, name: name, fn: fn, line: t.line}
	if p.isOp("(") {
		if f.args, f.kwargs, err = p.parseArgs(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (p *parser) parseTest(x expr) (expr, error) {
	negate := p.skipName("not")
	t, err := p.expectName()
	if err != nil {
		return nil, err
	}
	name := t.val
	fn, ok := tests[name]
	if !ok {
		return nil, p.errf(t.line, "unknown test %q", name)
	}
	te := &testExpr{x: x, name: name, fn: fn, negate: negate, line: t.line}
	c := p.cur()
	switch {
	case c.kind == tOp && c.val == "(":
		if te.args, te.kwargs, err = p.parseArgs(); err != nil {
			return nil, err
		}
	case (c.kind == tName || c.kind == tString || c.kind == tInt || c.kind == tFloat || c.kind == tOp && (c.val == "[" || c.val == "{")) &&
		!(c.kind == tName && (c.val == "else" || c.val == "or" || c.val == "and")):
		if c.kind == tName && c.val == "is" {
			return nil, p.errf(c.line, "you cannot chain multiple tests with is")
		}
		a, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		if a, err = p.parsePostfix(a); err != nil {
			return nil, err
		}
		te.args = []expr{a}
	}
	return te, nil
}
