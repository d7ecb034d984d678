package acebench

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/star-go/star/internal/pyjson"
)

// The answer format is a Python list of calls, [f(a=1), g(b='x')], which
// ACEBench reads with ast.parse(mode="eval") and a resolver
// (model_inference/utils.py decode_ast). This file is a parser for the
// Python expression syntax that can appear there, producing the same
// values as the resolver: constants, names (as their identifier string),
// lists, tuples, dicts, nested calls, unary minus and constant arithmetic.
// Anything the resolver rejects is an error here too.

// Complex is a Python complex constant (1j).
type Complex complex128

// fString marks an f-string token (an ast.JoinedStr, which the resolver rejects).
type fString struct{}

// Tuple is a Python tuple (a list in JSON).
type Tuple []any

// Bytes is a Python bytes value (b'...').
type Bytes string

// dictKey is the Object key for a Python dict key: a string is itself,
// anything else its repr behind a NUL (so it never equals a string key).
func dictKey(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return "\x00" + pyRepr(k)
}

// noneKey stands for the None key that f(**d) leaves in the resolver's
// argument dict.
const noneKey = "\x00None"

// node is a parsed expression.
type node struct {
	kind  string // const, name, list, tuple, set, dict, call, attr, unary, binop, subscript, other
	value any    // const: the value; name/attr: identifier; unary/binop: operator
	elts  []*node
	keys  []*node // dict keys (nil entry for **x)
	kw    []keyword
	fn    *node // call: the callee; attr/subscript: the object
	src   string
}

type keyword struct {
	name string // "" for **x
	val  *node
}

// SyntaxError is a parse failure.
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return "invalid syntax: " + e.Msg }

// ParseCalls is decode_ast for a non-FC model: the text must be one Python
// expression whose top level is a list, tuple or set of calls.
func ParseCalls(src string) ([]Call, error) {
	p := &parser{src: src}
	if err := p.tokenize(); err != nil {
		return nil, err
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, &SyntaxError{fmt.Sprintf("unexpected %q", p.peek().text)}
	}
	switch n.kind {
	case "list", "tuple", "set":
	default:
		return nil, fmt.Errorf("'%s' object has no attribute 'elts'", astName(n))
	}
	calls := make([]Call, 0, len(n.elts))
	for _, e := range n.elts {
		if e.kind != "call" {
			return nil, fmt.Errorf("AssertionError")
		}
		v, err := resolve(e)
		if err != nil {
			return nil, err
		}
		o := v.(*pyjson.Object)
		calls = append(calls, Call{Name: o.Members[0].Key, Args: o.Members[0].Value.(*pyjson.Object)})
	}
	return calls, nil
}

// Call is one decoded call {name: {param: value}}.
type Call struct {
	Name string
	Args *pyjson.Object
}

func astName(n *node) string {
	switch n.kind {
	case "const":
		return "Constant"
	case "name":
		return "Name"
	case "list":
		return "List"
	case "tuple":
		return "Tuple"
	case "set":
		return "Set"
	case "dict":
		return "Dict"
	case "call":
		return "Call"
	case "attr":
		return "Attribute"
	case "unary":
		return "UnaryOp"
	case "binop":
		return "BinOp"
	case "subscript":
		return "Subscript"
	}
	return "expr"
}

// funcName is the dotted name of a callee (attribute chain down to a name).
func funcName(n *node) string {
	var parts []string
	for n.kind == "attr" {
		parts = append(parts, n.value.(string))
		n = n.fn
	}
	if n.kind == "name" {
		parts = append(parts, n.value.(string))
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".")
}

// resolve is resolve_ast_by_type.
func resolve(n *node) (any, error) {
	switch n.kind {
	case "const":
		return n.value, nil
	case "unary":
		// The resolver negates operand.value whatever the operator is.
		if n.elts[0].kind != "const" {
			return nil, fmt.Errorf("'%s' object has no attribute 'value'", astName(n.elts[0]))
		}
		return negate(n.elts[0].value)
	case "list", "tuple":
		out := make([]any, len(n.elts))
		for i, e := range n.elts {
			v, err := resolve(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		if n.kind == "tuple" {
			return Tuple(out), nil
		}
		return out, nil
	case "dict":
		o := &pyjson.Object{}
		for i, k := range n.keys {
			if k == nil {
				return nil, fmt.Errorf("Unsupported AST type: <class 'NoneType'>")
			}
			kv, err := resolve(k)
			if err != nil {
				return nil, err
			}
			vv, err := resolve(n.elts[i])
			if err != nil {
				return nil, err
			}
			switch kv.(type) {
			case []any, *pyjson.Object:
				return nil, fmt.Errorf("unhashable type: '%s'", pyTypeName(kv))
			}
			o.Set(dictKey(kv), vv)
		}
		return o, nil
	case "binop":
		return evalBinop(n)
	case "name":
		return n.value, nil
	case "call":
		args := &pyjson.Object{}
		for _, k := range n.kw {
			v, err := resolve(k.val)
			if err != nil {
				return nil, err
			}
			name := k.name
			if name == "" {
				name = noneKey
			}
			args.Set(name, v)
		}
		return pyjson.NewObject(funcName(n.fn), args), nil
	case "subscript":
		return unparse(n.fn) + "[" + unparse(n.elts[0]) + "]", nil
	}
	if msg, ok := n.value.(string); ok && n.kind == "other" {
		return nil, fmt.Errorf("%s", msg)
	}
	return nil, fmt.Errorf("Unsupported AST type: <class 'ast.%s'>", astName(n))
}

// unsupported is a node the resolver rejects when (and only when) it has
// to resolve it: positional arguments are never looked at.
func unsupported(astType string) *node {
	return &node{kind: "other", value: "Unsupported AST type: <class 'ast." + astType + "'>"}
}

func negate(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(-1), nil
		}
		return int64(0), nil
	case int64:
		if x == math.MinInt64 {
			return new(big.Int).Neg(big.NewInt(x)), nil
		}
		return -x, nil
	case *big.Int:
		r := new(big.Int).Neg(x)
		if r.IsInt64() {
			return r.Int64(), nil
		}
		return r, nil
	case float64:
		return -x, nil
	case Complex:
		return -x, nil
	}
	return nil, fmt.Errorf("bad operand type for unary -: '%s'", pyTypeName(v))
}

// evalBinop is eval(ast.unparse(binop)) for operands that are constants
// (or nested constant arithmetic); names would be NameErrors.
func evalBinop(n *node) (any, error) {
	val := func(m *node) (any, error) {
		switch m.kind {
		case "const":
			return m.value, nil
		case "binop":
			return evalBinop(m)
		case "unary":
			v, err := val2(m.elts[0])
			if err != nil {
				return nil, err
			}
			switch m.value {
			case "-":
				return negate(v)
			case "+":
				return v, nil
			}
		case "name":
			return nil, fmt.Errorf("name '%s' is not defined", m.value)
		case "list", "tuple":
			return resolve(m)
		}
		return nil, fmt.Errorf("cannot evaluate %s", astName(m))
	}
	a, err := val(n.elts[0])
	if err != nil {
		return nil, err
	}
	b, err := val(n.elts[1])
	if err != nil {
		return nil, err
	}
	return arith(n.value.(string), a, b)
}

func val2(m *node) (any, error) {
	if m.kind == "const" {
		return m.value, nil
	}
	if m.kind == "binop" {
		return evalBinop(m)
	}
	return nil, fmt.Errorf("cannot evaluate %s", astName(m))
}

func arith(op string, a, b any) (any, error) {
	if s, ok := a.(string); ok {
		switch t := b.(type) {
		case string:
			if op == "+" {
				return s + t, nil
			}
		case int64:
			if op == "*" {
				if t < 0 {
					t = 0
				}
				return strings.Repeat(s, int(t)), nil
			}
		}
		return nil, fmt.Errorf("unsupported operand type(s) for %s: 'str' and '%s'", op, pyTypeName(b))
	}
	if la, ok := a.([]any); ok {
		if lb, ok := b.([]any); ok && op == "+" {
			return append(append([]any{}, la...), lb...), nil
		}
		return nil, fmt.Errorf("unsupported operand type(s) for %s: 'list' and '%s'", op, pyTypeName(b))
	}
	ia, aInt := toInt(a)
	ib, bInt := toInt(b)
	if aInt && bInt {
		switch op {
		case "+":
			return normInt(new(big.Int).Add(ia, ib)), nil
		case "-":
			return normInt(new(big.Int).Sub(ia, ib)), nil
		case "*":
			return normInt(new(big.Int).Mul(ia, ib)), nil
		case "//", "%":
			if ib.Sign() == 0 {
				return nil, fmt.Errorf("integer division or modulo by zero")
			}
			q, m := new(big.Int).DivMod(ia, ib, new(big.Int))
			// Python floors; DivMod is Euclidean (m >= 0): adjust for b < 0.
			if m.Sign() != 0 && ib.Sign() < 0 {
				q.Add(q, big.NewInt(1))
				m.Add(m, ib)
			}
			if op == "//" {
				return normInt(q), nil
			}
			return normInt(m), nil
		case "**":
			if ib.Sign() >= 0 && ib.BitLen() < 16 {
				return normInt(new(big.Int).Exp(ia, ib, nil)), nil
			}
		}
	}
	fa, okA := toFloat(a)
	fb, okB := toFloat(b)
	if !okA || !okB {
		return nil, fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, pyTypeName(a), pyTypeName(b))
	}
	switch op {
	case "+":
		return fa + fb, nil
	case "-":
		return fa - fb, nil
	case "*":
		return fa * fb, nil
	case "/":
		if fb == 0 {
			return nil, fmt.Errorf("division by zero")
		}
		return fa / fb, nil
	case "**":
		return math.Pow(fa, fb), nil
	case "//":
		if fb == 0 {
			return nil, fmt.Errorf("float floor division by zero")
		}
		return math.Floor(fa / fb), nil
	case "%":
		if fb == 0 {
			return nil, fmt.Errorf("float modulo")
		}
		m := math.Mod(fa, fb)
		if m != 0 && (m < 0) != (fb < 0) {
			m += fb
		}
		return m, nil
	}
	return nil, fmt.Errorf("unsupported operator %s", op)
}

func toInt(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	case int64:
		return big.NewInt(x), true
	case *big.Int:
		return x, true
	}
	return nil, false
}

func toFloat(v any) (float64, bool) {
	if _, ok := v.(string); ok {
		return 0, false
	}
	return pyjson.Float(v)
}

func normInt(b *big.Int) any {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

// unparse is ast.unparse for the simple expressions a subscript can hold.
func unparse(n *node) string {
	switch n.kind {
	case "const":
		return pyRepr(n.value)
	case "name":
		return n.value.(string)
	case "attr":
		return unparse(n.fn) + "." + n.value.(string)
	case "subscript":
		return unparse(n.fn) + "[" + unparse(n.elts[0]) + "]"
	case "unary":
		return n.value.(string) + unparse(n.elts[0])
	case "binop":
		return unparse(n.elts[0]) + " " + n.value.(string) + " " + unparse(n.elts[1])
	case "list", "tuple":
		parts := make([]string, len(n.elts))
		for i, e := range n.elts {
			parts[i] = unparse(e)
		}
		if n.kind == "list" {
			return "[" + strings.Join(parts, ", ") + "]"
		}
		if len(parts) == 1 {
			return parts[0] + ","
		}
		return strings.Join(parts, ", ")
	}
	return n.src
}

// --- tokenizer ---

type tokKind int

const (
	tEOF tokKind = iota
	tName
	tNumber
	tString
	tOp
)

type token struct {
	kind tokKind
	text string
	val  any // number or string value
	pos  int
}

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) accept(op string) bool {
	if t := p.peek(); t.kind == tOp && t.text == op {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(op string) error {
	if !p.accept(op) {
		return &SyntaxError{fmt.Sprintf("expected %q at byte %d", op, p.peek().pos)}
	}
	return nil
}

var ops3 = []string{"**=", "//=", ">>=", "<<=", "...", "!="}
var ops2 = []string{"**", "//", "==", "<=", ">=", "->", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", ":=", "<<", ">>", "!="}

func (p *parser) tokenize() error {
	s := p.src
	depth := 0
	i := 0
	// Python rejects leading indentation of the expression.
	if len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\f') {
		return &SyntaxError{"unexpected indent"}
	}
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			i++
			continue
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i += 2
			continue
		case c == '\n' || c == '\r':
			if depth == 0 {
				// A newline ends the logical line; only blank lines may follow.
				rest := strings.TrimLeft(s[i:], " \t\r\n\f")
				if rest != "" && !strings.HasPrefix(rest, "#") {
					return &SyntaxError{"unexpected content after the expression"}
				}
				i = len(s)
				continue
			}
			i++
			continue
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		}
		start := i
		r, size := utf8.DecodeRuneInString(s[i:])
		if isStringStart(s[i:]) {
			v, n, err := scanString(s[i:])
			if err != nil {
				return err
			}
			p.toks = append(p.toks, token{kind: tString, text: s[i : i+n], val: v, pos: start})
			i += n
			continue
		}
		if r == '_' || unicode.IsLetter(r) {
			j := i + size
			for j < len(s) {
				r2, sz := utf8.DecodeRuneInString(s[j:])
				if r2 == '_' || unicode.IsLetter(r2) || unicode.IsDigit(r2) || unicode.Is(unicode.Mn, r2) || unicode.Is(unicode.Mc, r2) {
					j += sz
					continue
				}
				break
			}
			p.toks = append(p.toks, token{kind: tName, text: s[i:j], pos: start})
			i = j
			continue
		}
		if c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			v, n, err := scanNumber(s[i:])
			if err != nil {
				return err
			}
			p.toks = append(p.toks, token{kind: tNumber, text: s[i : i+n], val: v, pos: start})
			i += n
			continue
		}
		op := ""
		for _, o := range ops3 {
			if strings.HasPrefix(s[i:], o) {
				op = o
				break
			}
		}
		if op == "" {
			for _, o := range ops2 {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
		}
		if op == "" {
			if strings.ContainsRune("()[]{},:.;@=+-*/%&|^~<>", rune(c)) {
				op = string(c)
			} else {
				return &SyntaxError{fmt.Sprintf("invalid character %q", r)}
			}
		}
		switch op {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		}
		p.toks = append(p.toks, token{kind: tOp, text: op, pos: start})
		i += len(op)
	}
	if depth > 0 {
		return &SyntaxError{"unexpected EOF (unclosed bracket)"}
	}
	p.toks = append(p.toks, token{kind: tEOF, pos: len(s)})
	return nil
}

func isStringStart(s string) bool {
	i := 0
	for i < len(s) && i < 3 && strings.ContainsRune("rRbBuUfF", rune(s[i])) {
		i++
	}
	if i < len(s) && (s[i] == '\'' || s[i] == '"') {
		prefix := strings.ToLower(s[:i])
		switch prefix {
		case "", "r", "u", "b", "br", "rb", "f", "fr", "rf":
			return true
		}
	}
	return false
}

// scanString reads one string literal (with prefix); bytes and f-strings
// are errors (the resolver cannot turn them into JSON values).
func scanString(s string) (any, int, error) {
	i := 0
	for s[i] != '\'' && s[i] != '"' {
		i++
	}
	prefix := strings.ToLower(s[:i])
	raw := strings.Contains(prefix, "r")
	q := s[i]
	triple := strings.HasPrefix(s[i:], strings.Repeat(string(q), 3))
	i++
	if triple {
		i += 2
	}
	var b strings.Builder
	for {
		if i >= len(s) {
			return nil, 0, &SyntaxError{"unterminated string literal"}
		}
		c := s[i]
		if c == q && (!triple || strings.HasPrefix(s[i:], strings.Repeat(string(q), 3))) {
			if triple {
				i += 3
			} else {
				i++
			}
			break
		}
		if c == '\n' && !triple {
			return nil, 0, &SyntaxError{"unterminated string literal"}
		}
		if c == '\\' && i+1 < len(s) {
			if raw {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			n, err := unescape(&b, s[i:], strings.Contains(prefix, "b"))
			if err != nil {
				return nil, 0, err
			}
			i += n
			continue
		}
		b.WriteByte(c)
		i++
	}
	if strings.Contains(prefix, "b") {
		for _, r := range b.String() {
			if r > 0x7f {
				return nil, 0, &SyntaxError{"bytes can only contain ASCII literal characters"}
			}
		}
		return Bytes(b.String()), i, nil
	}
	if strings.Contains(prefix, "f") {
		return fString{}, i, nil
	}
	return b.String(), i, nil
}

// unescape decodes one backslash escape at s[0] and returns its length.
func unescape(b *strings.Builder, s string, bytesLit bool) (int, error) {
	c := s[1]
	simple := map[byte]string{'\n': "", '\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v"}
	if r, ok := simple[c]; ok {
		b.WriteString(r)
		return 2, nil
	}
	hex := func(n int) (int, error) {
		if len(s) < 2+n {
			return 0, &SyntaxError{"truncated escape"}
		}
		v, err := strconv.ParseUint(s[2:2+n], 16, 32)
		if err != nil {
			return 0, &SyntaxError{"truncated escape"}
		}
		if v > unicode.MaxRune {
			return 0, &SyntaxError{"illegal Unicode character"}
		}
		b.WriteRune(rune(v))
		return 2 + n, nil
	}
	switch {
	case c == 'x':
		return hex(2)
	case c == 'u' && !bytesLit:
		return hex(4)
	case c == 'U' && !bytesLit:
		return hex(8)
	case c >= '0' && c <= '7':
		j := 1
		v := 0
		for j < 4 && j < len(s) && s[j] >= '0' && s[j] <= '7' {
			v = v*8 + int(s[j]-'0')
			j++
		}
		b.WriteRune(rune(v))
		return j, nil
	case c == 'N' && !bytesLit:
		return 0, fmt.Errorf("\\N{...} escapes are not supported")
	}
	b.WriteByte('\\')
	return 1, nil
}

func scanNumber(s string) (any, int, error) {
	i := 0
	isDigitOrUnderscore := func(c byte, base int) bool {
		switch {
		case c == '_':
			return true
		case base == 16:
			return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		case base == 8:
			return c >= '0' && c <= '7'
		case base == 2:
			return c == '0' || c == '1'
		}
		return c >= '0' && c <= '9'
	}
	if len(s) > 1 && s[0] == '0' && strings.ContainsRune("xXoObB", rune(s[1])) {
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[s[1]|0x20]
		i = 2
		for i < len(s) && isDigitOrUnderscore(s[i], base) {
			i++
		}
		v, ok := new(big.Int).SetString(strings.ReplaceAll(s[2:i], "_", ""), base)
		if !ok {
			return nil, 0, &SyntaxError{"invalid number"}
		}
		return normInt(v), i, nil
	}
	for i < len(s) && isDigitOrUnderscore(s[i], 10) {
		i++
	}
	isFloat := false
	if i < len(s) && s[i] == '.' {
		isFloat = true
		i++
		for i < len(s) && isDigitOrUnderscore(s[i], 10) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			isFloat = true
			i = j
			for i < len(s) && isDigitOrUnderscore(s[i], 10) {
				i++
			}
		}
	}
	text := s[:i]
	if i < len(s) && (s[i] == 'j' || s[i] == 'J') {
		f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil {
			return nil, 0, &SyntaxError{"invalid imaginary literal"}
		}
		return Complex(complex(0, f)), i + 1, nil
	}
	if strings.Contains(text, "__") || strings.HasSuffix(text, "_") || strings.Contains(text, "_.") || strings.Contains(text, "._") {
		return nil, 0, &SyntaxError{"invalid decimal literal"}
	}
	clean := strings.ReplaceAll(text, "_", "")
	if isFloat {
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
				return nil, 0, &SyntaxError{"invalid number"}
			}
		}
		return f, i, nil
	}
	if len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return nil, 0, &SyntaxError{"leading zeros in decimal integer literals are not permitted"}
	}
	v, ok := new(big.Int).SetString(clean, 10)
	if !ok {
		return nil, 0, &SyntaxError{"invalid number"}
	}
	return normInt(v), i, nil
}

// --- expression grammar (precedence climbing over Python's levels) ---

func (p *parser) expr() (*node, error) {
	start := p.peek().pos
	n, err := p.ternary()
	if err != nil {
		return nil, err
	}
	// A bare comma makes a tuple.
	if t := p.peek(); t.kind == tOp && t.text == "," {
		elts := []*node{n}
		for p.accept(",") {
			if p.atExprEnd() {
				break
			}
			e, err := p.ternary()
			if err != nil {
				return nil, err
			}
			elts = append(elts, e)
		}
		n = &node{kind: "tuple", elts: elts}
	}
	n.src = strings.TrimSpace(p.src[start:p.peek().pos])
	return n, nil
}

func (p *parser) atExprEnd() bool {
	t := p.peek()
	return t.kind == tEOF || t.kind == tOp && (t.text == ")" || t.text == "]" || t.text == "}" || t.text == "=")
}

func (p *parser) ternary() (*node, error) {
	start := p.peek().pos
	if t := p.peek(); t.kind == tName && t.text == "lambda" {
		// Consume to the end of the lambda body; the resolver cannot use it.
		p.next()
		for !(p.peek().kind == tOp && p.peek().text == ":") && p.peek().kind != tEOF {
			p.next()
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		if _, err := p.ternary(); err != nil {
			return nil, err
		}
		return &node{kind: "other", value: errLambda.Error(), src: "lambda"}, nil
	}
	n, err := p.orTest()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tName && t.text == "if" {
		p.next()
		if _, err := p.orTest(); err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tName || t.text != "else" {
			return nil, &SyntaxError{"expected 'else'"}
		}
		if _, err := p.ternary(); err != nil {
			return nil, err
		}
		n = unsupported("IfExp")
	}
	if n.src == "" {
		n.src = strings.TrimSpace(p.src[start:p.peek().pos])
	}
	return n, nil
}

// errLambda: resolve_ast_by_type's lambda branch always fails
// (value.body[0] on an expression).
var errLambda = fmt.Errorf("'%s' object is not subscriptable", "expr")

func (p *parser) orTest() (*node, error) {
	n, err := p.notTest()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind == tName && (t.text == "or" || t.text == "and") {
			p.next()
			if _, err := p.notTest(); err != nil {
				return nil, err
			}
			n = unsupported("BoolOp")
			continue
		}
		return n, nil
	}
}

func (p *parser) notTest() (*node, error) {
	if t := p.peek(); t.kind == tName && t.text == "not" {
		p.next()
		operand, err := p.notTest()
		if err != nil {
			return nil, err
		}
		return &node{kind: "unary", value: "not", elts: []*node{operand}}, nil
	}
	return p.comparison()
}

var compareOps = map[string]bool{"<": true, ">": true, "==": true, ">=": true, "<=": true, "!=": true}

func (p *parser) comparison() (*node, error) {
	n, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		isCmp := t.kind == tOp && compareOps[t.text] || t.kind == tName && (t.text == "in" || t.text == "is" || t.text == "not")
		if !isCmp {
			return n, nil
		}
		p.next()
		if t.text == "not" || t.text == "is" {
			if nt := p.peek(); nt.kind == tName && (nt.text == "in" || nt.text == "not") {
				p.next()
			}
		}
		if _, err := p.binary(0); err != nil {
			return nil, err
		}
		n = unsupported("Compare")
	}
}

var binLevels = [][]string{{"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}}

func (p *parser) binary(level int) (*node, error) {
	if level == len(binLevels) {
		return p.unary()
	}
	n, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		matched := false
		for _, op := range binLevels[level] {
			if t.kind == tOp && t.text == op {
				matched = true
			}
		}
		if !matched {
			return n, nil
		}
		p.next()
		rhs, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		n = &node{kind: "binop", value: t.text, elts: []*node{n, rhs}}
	}
}

func (p *parser) unary() (*node, error) {
	if t := p.peek(); t.kind == tOp && (t.text == "-" || t.text == "+" || t.text == "~") {
		p.next()
		operand, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &node{kind: "unary", value: t.text, elts: []*node{operand}}, nil
	}
	return p.power()
}

func (p *parser) power() (*node, error) {
	n, err := p.postfix()
	if err != nil {
		return nil, err
	}
	if p.accept("**") {
		rhs, err := p.unary()
		if err != nil {
			return nil, err
		}
		n = &node{kind: "binop", value: "**", elts: []*node{n, rhs}}
	}
	return n, nil
}

func (p *parser) postfix() (*node, error) {
	start := p.peek().pos
	n, err := p.atom()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.accept("("):
			call := &node{kind: "call", fn: n}
			seenKw := false
			for !p.accept(")") {
				if p.accept("**") {
					v, err := p.ternary()
					if err != nil {
						return nil, err
					}
					call.kw = append(call.kw, keyword{"", v})
					seenKw = true
				} else if p.accept("*") {
					if _, err := p.ternary(); err != nil {
						return nil, err
					}
				} else if t := p.peek(); t.kind == tName && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].text == "=" {
					p.i += 2
					v, err := p.ternary()
					if err != nil {
						return nil, err
					}
					call.kw = append(call.kw, keyword{t.text, v})
					seenKw = true
				} else {
					if seenKw {
						return nil, &SyntaxError{"positional argument follows keyword argument"}
					}
					if _, err := p.ternary(); err != nil {
						return nil, err
					}
				}
				if !p.accept(",") {
					if err := p.expect(")"); err != nil {
						return nil, err
					}
					break
				}
			}
			n = call
		case p.accept("["):
			idx, err := p.subscriptIndex()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			n = &node{kind: "subscript", fn: n, elts: []*node{idx}}
		case p.accept("."):
			t := p.next()
			if t.kind != tName {
				return nil, &SyntaxError{"expected a name after '.'"}
			}
			n = &node{kind: "attr", value: t.text, fn: n}
		default:
			n.src = strings.TrimSpace(p.src[start:p.peek().pos])
			return n, nil
		}
	}
}

func (p *parser) subscriptIndex() (*node, error) {
	start := p.peek().pos
	if p.peek().kind == tOp && p.peek().text == ":" {
		for !(p.peek().kind == tOp && p.peek().text == "]") && p.peek().kind != tEOF {
			p.next()
		}
		return &node{kind: "other", src: strings.TrimSpace(p.src[start:p.peek().pos])}, nil
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tOp && p.peek().text == ":" {
		for !(p.peek().kind == tOp && p.peek().text == "]") && p.peek().kind != tEOF {
			p.next()
		}
		return &node{kind: "other", src: strings.TrimSpace(p.src[start:p.peek().pos])}, nil
	}
	return n, nil
}

func (p *parser) atom() (*node, error) {
	t := p.next()
	switch t.kind {
	case tNumber:
		return &node{kind: "const", value: t.val}, nil
	case tString:
		// Adjacent literals concatenate (bytes with bytes only); any
		// f-string part makes the whole an ast.JoinedStr.
		v := t.val
		for p.peek().kind == tString {
			n := p.next().val
			if _, isF := n.(fString); isF {
				if _, isB := v.(Bytes); isB {
					return nil, &SyntaxError{"cannot mix bytes and nonbytes literals"}
				}
				v = n
				continue
			}
			switch x := v.(type) {
			case fString:
				if _, isB := n.(Bytes); isB {
					return nil, &SyntaxError{"cannot mix bytes and nonbytes literals"}
				}
			case string:
				s, ok := n.(string)
				if !ok {
					return nil, &SyntaxError{"cannot mix bytes and nonbytes literals"}
				}
				v = x + s
			case Bytes:
				s, ok := n.(Bytes)
				if !ok {
					return nil, &SyntaxError{"cannot mix bytes and nonbytes literals"}
				}
				v = x + s
			}
		}
		if _, isF := v.(fString); isF {
			return unsupported("JoinedStr"), nil
		}
		return &node{kind: "const", value: v}, nil
	case tName:
		switch t.text {
		case "True":
			return &node{kind: "const", value: true}, nil
		case "False":
			return &node{kind: "const", value: false}, nil
		case "None":
			return &node{kind: "const", value: nil}, nil
		case "lambda", "if", "else", "for", "in", "not", "and", "or", "is", "import", "def", "class", "return",
			"yield", "while", "with", "try", "except", "raise", "del", "pass", "break", "continue", "global",
			"nonlocal", "assert", "from", "as", "finally", "elif", "async", "await":
			return nil, &SyntaxError{fmt.Sprintf("unexpected keyword %q", t.text)}
		}
		return &node{kind: "name", value: t.text}, nil
	case tOp:
		switch t.text {
		case "...":
			return &node{kind: "const", value: "..."}, nil
		case "(":
			if p.accept(")") {
				return &node{kind: "tuple"}, nil
			}
			n, err := p.expr()
			if err != nil {
				return nil, err
			}
			if p.peek().kind == tName && p.peek().text == "for" {
				if err := p.skipComprehension(")"); err != nil {
					return nil, err
				}
				return unsupported("GeneratorExp"), nil
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return n, nil
		case "[":
			elts, comp, err := p.sequence("]")
			if err != nil {
				return nil, err
			}
			if comp {
				return unsupported("ListComp"), nil
			}
			return &node{kind: "list", elts: elts}, nil
		case "{":
			return p.dictOrSet()
		}
	}
	return nil, &SyntaxError{fmt.Sprintf("unexpected %q at byte %d", t.text, t.pos)}
}

// skipComprehension consumes "for ... in ..." up to and including the
// closing bracket; the comprehension itself is never resolvable.
func (p *parser) skipComprehension(closer string) error {
	depth := 0
	for p.peek().kind != tEOF {
		t := p.next()
		if t.kind == tOp {
			switch t.text {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth == 0 {
					if t.text != closer {
						return &SyntaxError{"mismatched bracket"}
					}
					return nil
				}
				depth--
			}
		}
	}
	return &SyntaxError{"unexpected EOF"}
}

// sequence reads list elements up to closer; comp reports a comprehension.
func (p *parser) sequence(closer string) (elts []*node, comp bool, err error) {
	for !p.accept(closer) {
		starred := p.accept("*")
		e, err := p.ternary()
		if err != nil {
			return nil, false, err
		}
		if starred {
			e = unsupported("Starred")
		}
		if !starred && len(elts) == 0 && p.peek().kind == tName && p.peek().text == "for" {
			return nil, true, p.skipComprehension(closer)
		}
		elts = append(elts, e)
		if !p.accept(",") {
			if err := p.expect(closer); err != nil {
				return nil, false, err
			}
			break
		}
	}
	return elts, false, nil
}

func (p *parser) dictOrSet() (*node, error) {
	if p.accept("}") {
		return &node{kind: "dict"}, nil
	}
	n := &node{kind: "dict"}
	first := true
	for {
		if p.accept("**") {
			v, err := p.binary(0)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, nil)
			n.elts = append(n.elts, v)
		} else {
			k, err := p.ternary()
			if err != nil {
				return nil, err
			}
			if first && !(p.peek().kind == tOp && p.peek().text == ":") {
				// A set display.
				if p.peek().kind == tName && p.peek().text == "for" {
					if err := p.skipComprehension("}"); err != nil {
						return nil, err
					}
					return unsupported("SetComp"), nil
				}
				elts, err := p.setRest(k)
				if err != nil {
					return nil, err
				}
				return &node{kind: "set", elts: elts}, nil
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			v, err := p.ternary()
			if err != nil {
				return nil, err
			}
			if first && p.peek().kind == tName && p.peek().text == "for" {
				if err := p.skipComprehension("}"); err != nil {
					return nil, err
				}
				return unsupported("DictComp"), nil
			}
			n.keys = append(n.keys, k)
			n.elts = append(n.elts, v)
		}
		first = false
		if !p.accept(",") {
			if err := p.expect("}"); err != nil {
				return nil, err
			}
			return n, nil
		}
		if p.accept("}") {
			return n, nil
		}
	}
}

func (p *parser) setRest(first *node) ([]*node, error) {
	elts := []*node{first}
	for p.accept(",") {
		if p.peek().kind == tOp && p.peek().text == "}" {
			break
		}
		e, err := p.ternary()
		if err != nil {
			return nil, err
		}
		elts = append(elts, e)
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	return elts, nil
}
