package jinja

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/star-go/star/internal/pyjson"
)

// ---- errors ----

// Error is a template parse or render error. Every error this package
// returns is an *Error naming the template and the line.
type Error struct {
	Name string // template name
	Line int    // 1-based line in the template source
	Msg  string
	// Raised is true when the template itself called raise_exception(Msg).
	Raised bool
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg) }

func newError(name string, line int, format string, args ...any) *Error {
	return &Error{Name: name, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// opError is an error from value operations, before a line is attached.
type opError struct{ msg string }

func (e *opError) Error() string { return e.msg }

func opErrf(format string, args ...any) error { return &opError{fmt.Sprintf(format, args...)} }

var (
	errNaN      = errors.New("NaN comparison")
	errBreak    = errors.New("break")
	errContinue = errors.New("continue")
)

// ---- values ----

// Undefined is the value of a missing variable, attribute or item, as
// Jinja2's default Undefined: it prints as "", is falsy, iterates as empty,
// and errors on attribute access, calls and arithmetic.
type Undefined struct {
	hint string // the UndefinedError message
}

func undefName(name string) Undefined { return Undefined{hint: fmt.Sprintf("'%s' is undefined", name)} }

func undefAttr(obj any, name string) Undefined {
	return Undefined{hint: fmt.Sprintf("%s has no attribute '%s'", typeObjDesc(obj), name)}
}

func undefItem(obj any, key any) Undefined {
	return Undefined{hint: fmt.Sprintf("%s has no element %s", typeObjDesc(obj), pyRepr(key))}
}

// unsafeUndef is what HF's immutable sandbox returns for a mutating method.
func unsafeUndef(obj any, name string) Undefined {
	return Undefined{hint: fmt.Sprintf("access to attribute '%s' of '%s' object is unsafe (HF renders chat templates in an immutable sandbox)", name, typeName(obj))}
}

func (u Undefined) err() error {
	if u.hint == "" {
		return opErrf("value is undefined")
	}
	return opErrf("%s", u.hint)
}

// typeObjDesc describes obj as Jinja2's undefined messages do.
func typeObjDesc(obj any) string {
	switch obj.(type) {
	case nil:
		return "'None'"
	case *pyjson.Object:
		return "'dict object'"
	case []any:
		return "'list object'"
	case Tuple:
		return "'tuple object'"
	case string:
		return "'str object'"
	}
	return "'" + typeName(obj) + " object'"
}

// Tuple is a Python tuple (dict items, tuple literals).
type Tuple []any

// Namespace is the mutable object namespace() returns.
type Namespace struct{ obj *pyjson.Object }

// loopInfo is the special "loop" variable of a for loop.
type loopInfo struct {
	index0, length int
	items          []any
}

type macroValue struct {
	m     *macroNode
	scope *scope
}

// builtinFunc is a global function such as namespace() or range().
type builtinFunc struct {
	name string
	fn   func(r *renderer, args []any, kw []kwval) (any, error)
}

// boundMethod is obj.method looked up but not (yet) called.
type boundMethod struct {
	recv any
	name string
}

type kwval struct {
	name string
	v    any
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case Tuple:
		return "tuple"
	case *pyjson.Object:
		return "dict"
	case Undefined:
		return "Undefined"
	case *Namespace:
		return "Namespace"
	case *loopInfo:
		return "LoopContext"
	case *macroValue:
		return "Macro"
	case *builtinFunc, boundMethod:
		return "builtin_function_or_method"
	}
	return fmt.Sprintf("%T", v)
}

// truthy is Python's bool().
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case int:
		return x != 0
	case *big.Int:
		return x.Sign() != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case Tuple:
		return len(x) > 0
	case *pyjson.Object:
		return x.Len() > 0
	case Undefined:
		return false
	}
	return true
}

// pyStr is Python's str() as Jinja2 prints values.
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case Undefined:
		return ""
	}
	return pyRepr(v)
}

func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil, bool, int64, int, *big.Int, float64, string:
		b.WriteString(pyjson.Repr(x))
	case Undefined:
		// repr of Undefined is "Undefined"; inside containers Python shows that.
		b.WriteString("Undefined")
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case Tuple:
		b.WriteByte('(')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		if len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *pyjson.Object:
		b.WriteByte('{')
		for i, m := range x.Members {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyjson.QuoteString(m.Key))
			b.WriteString(": ")
			writeRepr(b, m.Value)
		}
		b.WriteByte('}')
	case *Namespace:
		b.WriteString("<Namespace ")
		writeRepr(b, x.obj)
		b.WriteByte('>')
	case *macroValue:
		b.WriteString("<Macro '" + x.m.name + "'>")
	case *loopInfo:
		fmt.Fprintf(b, "<LoopContext %d/%d>", x.index0+1, x.length)
	default:
		fmt.Fprintf(b, "<%s>", typeName(v))
	}
}

// ---- scopes ----

type scope struct {
	parent *scope
	names  []string
	vals   []any
	inlN   [4]string // inline storage for the first few names
	inlV   [4]any
}

func newScope(parent *scope) *scope {
	s := &scope{parent: parent}
	s.names, s.vals = s.inlN[:0], s.inlV[:0]
	return s
}

func (s *scope) lookup(name string) (any, bool) {
	for ; s != nil; s = s.parent {
		for i := len(s.names) - 1; i >= 0; i-- {
			if s.names[i] == name {
				return s.vals[i], true
			}
		}
	}
	return nil, false
}

func (s *scope) set(name string, v any) {
	for i, n := range s.names {
		if n == name {
			s.vals[i] = v
			return
		}
	}
	s.names = append(s.names, name)
	s.vals = append(s.vals, v)
}

// ---- renderer ----

type renderer struct {
	t     *Template
	out   []byte
	depth int
	steps int // loop iterations so far, bounded by maxSteps
}

// maxSteps bounds the loop iterations of one render, so that a hostile or
// broken template fails instead of running for hours.
const maxSteps = 1 << 20

// maxOutput bounds the rendered size.
const maxOutput = 1 << 26

func (r *renderer) errAt(line int, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if err == errBreak || err == errContinue {
		return err
	}
	var rz *raised
	if errors.As(err, &rz) {
		return &Error{Name: r.t.name, Line: line, Msg: "raise_exception: " + rz.msg, Raised: true}
	}
	return &Error{Name: r.t.name, Line: line, Msg: err.Error()}
}

func (r *renderer) errf(line int, format string, args ...any) error {
	return newError(r.t.name, line, format, args...)
}

func (r *renderer) execBody(body []stmt, s *scope) error {
	for _, st := range body {
		if err := st.exec(r, s); err != nil {
			return err
		}
	}
	return nil
}

// ---- statements ----

type stmt interface {
	exec(r *renderer, s *scope) error
}

type dataNode struct{ text string }

func (n *dataNode) exec(r *renderer, s *scope) error {
	r.out = append(r.out, n.text...)
	return nil
}

type outputNode struct {
	x    expr
	line int
}

func (n *outputNode) exec(r *renderer, s *scope) error {
	switch x := n.x.(type) {
	case *plusChain:
		return x.appendOut(r, s)
	case *filterExpr:
		if x.name == "tojson" && len(x.args) == 0 && len(x.kwargs) == 0 {
			v, err := x.x.eval(r, s)
			if err != nil {
				return err
			}
			if err := jsonValue(v); err != nil {
				return r.errAt(x.line, fmt.Errorf("filter tojson: %w", err))
			}
			r.out = pyjson.Append(r.out, v, nil)
			return nil
		}
	}
	v, err := n.x.eval(r, s)
	if err != nil {
		return err
	}
	r.out = appendStr(r.out, v)
	return nil
}

func appendStr(dst []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(dst, x...)
	case Undefined:
		return dst
	}
	return append(dst, pyRepr(v)...)
}

type blockNode struct{ body []stmt }

func (n *blockNode) exec(r *renderer, s *scope) error { return r.execBody(n.body, s) }

type ifNode struct {
	conds  []expr
	bodies [][]stmt
	els    []stmt
	line   int
}

func (n *ifNode) exec(r *renderer, s *scope) error {
	for i, c := range n.conds {
		v, err := c.eval(r, s)
		if err != nil {
			return err
		}
		if truthy(v) {
			return r.execBody(n.bodies[i], s)
		}
	}
	return r.execBody(n.els, s)
}

type target struct {
	names []string
	attr  string // set ns.attr = ...
	tuple bool
	line  int
}

// assign binds v to the target in scope s.
func (r *renderer) assign(tg target, v any, s *scope) error {
	if tg.attr != "" {
		obj, ok := s.lookup(tg.names[0])
		ns, isNS := obj.(*Namespace)
		if !ok || !isNS {
			return r.errf(tg.line, "cannot assign attribute on non-namespace object '%s'", tg.names[0])
		}
		ns.obj.Set(tg.attr, v)
		return nil
	}
	if !tg.tuple {
		s.set(tg.names[0], v)
		return nil
	}
	items, err := iterate(v)
	if err != nil {
		return r.errAt(tg.line, err)
	}
	if len(items) != len(tg.names) {
		if len(items) > len(tg.names) {
			return r.errf(tg.line, "too many values to unpack (expected %d)", len(tg.names))
		}
		return r.errf(tg.line, "not enough values to unpack (expected %d, got %d)", len(tg.names), len(items))
	}
	for i, n := range tg.names {
		s.set(n, items[i])
	}
	return nil
}

type forNode struct {
	target target
	iter   expr
	cond   expr
	body   []stmt
	els    []stmt
	line   int
}

func (n *forNode) exec(r *renderer, s *scope) error {
	v, err := n.iter.eval(r, s)
	if err != nil {
		return err
	}
	items, err := iterate(v)
	if err != nil {
		return r.errAt(n.line, err)
	}
	if n.cond != nil {
		var kept []any
		for _, it := range items {
			cs := newScope(s)
			if err := r.assign(n.target, it, cs); err != nil {
				return err
			}
			c, err := n.cond.eval(r, cs)
			if err != nil {
				return err
			}
			if truthy(c) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		return r.execBody(n.els, s)
	}
	loop := &loopInfo{length: len(items), items: items}
	for i, it := range items {
		if r.steps++; r.steps > maxSteps {
			return r.errf(n.line, "too many loop iterations (more than %d)", maxSteps)
		}
		if len(r.out) > maxOutput {
			return r.errf(n.line, "output too large (more than %d bytes)", maxOutput)
		}
		loop.index0 = i
		// One scope per iteration: assignments in the body do not outlive it.
		is := newScope(s)
		is.set("loop", loop)
		if err := r.assign(n.target, it, is); err != nil {
			return err
		}
		err := r.execBody(n.body, is)
		if err == errBreak {
			break
		}
		if err != nil && err != errContinue {
			return err
		}
	}
	return nil
}

type loopCtlNode struct{ isBreak bool }

func (n *loopCtlNode) exec(r *renderer, s *scope) error {
	if n.isBreak {
		return errBreak
	}
	return errContinue
}

type setNode struct {
	target target
	x      expr
	line   int
}

func (n *setNode) exec(r *renderer, s *scope) error {
	v, err := n.x.eval(r, s)
	if err != nil {
		return err
	}
	return r.assign(n.target, v, s)
}

// captureBody renders body into a string.
func (r *renderer) captureBody(body []stmt, s *scope) (string, error) {
	saved := r.out
	r.out = nil
	err := r.execBody(body, s)
	out := string(r.out)
	r.out = saved
	return out, err
}

type setBlockNode struct {
	name    string
	body    []stmt
	filters []*filterExpr
	line    int
}

func (n *setBlockNode) exec(r *renderer, s *scope) error {
	out, err := r.captureBody(n.body, s)
	if err != nil {
		return err
	}
	var v any = out
	for _, f := range n.filters {
		if v, err = f.apply(r, s, v); err != nil {
			return err
		}
	}
	s.set(n.name, v)
	return nil
}

type filterBlockNode struct {
	body    []stmt
	filters []*filterExpr
	line    int
}

func (n *filterBlockNode) exec(r *renderer, s *scope) error {
	out, err := r.captureBody(n.body, s)
	if err != nil {
		return err
	}
	var v any = out
	for _, f := range n.filters {
		if v, err = f.apply(r, s, v); err != nil {
			return err
		}
	}
	r.out = appendStr(r.out, v)
	return nil
}

type macroNode struct {
	name     string
	params   []string
	defaults []expr
	body     []stmt
	line     int
}

func (n *macroNode) exec(r *renderer, s *scope) error {
	s.set(n.name, &macroValue{m: n, scope: s})
	return nil
}

const maxDepth = 200

func (r *renderer) callMacro(mv *macroValue, args []any, kws []kwval, line int) (any, error) {
	m := mv.m
	if len(args) > len(m.params) {
		return nil, r.errf(line, "macro '%s' takes not more than %d argument(s)", m.name, len(m.params))
	}
	if r.depth >= maxDepth {
		return nil, r.errf(line, "macro '%s': maximum recursion depth exceeded", m.name)
	}
	ms := newScope(mv.scope)
	set := make([]bool, len(m.params))
	for i, a := range args {
		ms.set(m.params[i], a)
		set[i] = true
	}
	for _, kw := range kws {
		found := false
		for i, p := range m.params {
			if p == kw.name {
				if set[i] {
					return nil, r.errf(line, "macro '%s' got multiple values for argument '%s'", m.name, p)
				}
				ms.set(p, kw.v)
				set[i] = true
				found = true
				break
			}
		}
		if !found {
			return nil, r.errf(line, "macro '%s' takes no keyword argument '%s'", m.name, kw.name)
		}
	}
	for i, p := range m.params {
		if set[i] {
			continue
		}
		if m.defaults[i] == nil {
			ms.set(p, undefName(p))
			continue
		}
		v, err := m.defaults[i].eval(r, ms)
		if err != nil {
			return nil, err
		}
		ms.set(p, v)
	}
	r.depth++
	out, err := r.captureBody(m.body, ms)
	r.depth--
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- expressions ----

type expr interface {
	eval(r *renderer, s *scope) (any, error)
}

type kwarg struct {
	name string
	x    expr
}

type constExpr struct{ v any }

func (e *constExpr) eval(r *renderer, s *scope) (any, error) { return e.v, nil }

type nameExpr struct {
	name string
	line int
}

func (e *nameExpr) eval(r *renderer, s *scope) (any, error) {
	if v, ok := s.lookup(e.name); ok {
		return v, nil
	}
	if f, ok := globals[e.name]; ok {
		return f, nil
	}
	return undefName(e.name), nil
}

type getattrExpr struct {
	obj  expr
	name string
	line int
}

func (e *getattrExpr) eval(r *renderer, s *scope) (any, error) {
	o, err := e.obj.eval(r, s)
	if err != nil {
		return nil, err
	}
	v, err := getattr(o, e.name)
	if err != nil {
		return nil, r.errAt(e.line, err)
	}
	return v, nil
}

type getitemExpr struct {
	obj  expr
	key  expr
	line int
}

func (e *getitemExpr) eval(r *renderer, s *scope) (any, error) {
	o, err := e.obj.eval(r, s)
	if err != nil {
		return nil, err
	}
	k, err := e.key.eval(r, s)
	if err != nil {
		return nil, err
	}
	v, err := getitem(o, k)
	if err != nil {
		return nil, r.errAt(e.line, err)
	}
	return v, nil
}

type sliceExpr struct {
	obj, start, stop, step expr
	line                   int
}

func (e *sliceExpr) eval(r *renderer, s *scope) (any, error) {
	o, err := e.obj.eval(r, s)
	if err != nil {
		return nil, err
	}
	var idx [3]any
	for i, x := range [3]expr{e.start, e.stop, e.step} {
		if x == nil {
			continue
		}
		if idx[i], err = x.eval(r, s); err != nil {
			return nil, err
		}
	}
	v, err := slice(o, idx[0], idx[1], idx[2])
	if err != nil {
		return nil, r.errAt(e.line, err)
	}
	return v, nil
}

type callExpr struct {
	fn     expr
	args   []expr
	kwargs []kwarg
	line   int
}

func (r *renderer) evalArgs(s *scope, args []expr, kws []kwarg) ([]any, []kwval, error) {
	var av []any
	if len(args) > 0 {
		av = make([]any, len(args))
		for i, a := range args {
			v, err := a.eval(r, s)
			if err != nil {
				return nil, nil, err
			}
			av[i] = v
		}
	}
	var kv []kwval
	if len(kws) > 0 {
		kv = make([]kwval, len(kws))
		for i, k := range kws {
			v, err := k.x.eval(r, s)
			if err != nil {
				return nil, nil, err
			}
			kv[i] = kwval{k.name, v}
		}
	}
	return av, kv, nil
}

func (e *callExpr) eval(r *renderer, s *scope) (any, error) {
	// obj.method(...): call the method directly without a bound value.
	if ga, ok := e.fn.(*getattrExpr); ok {
		recv, err := ga.obj.eval(r, s)
		if err != nil {
			return nil, err
		}
		if hasMethod(recv, ga.name) {
			args, kws, err := r.evalArgs(s, e.args, e.kwargs)
			if err != nil {
				return nil, err
			}
			v, err := callMethod(recv, ga.name, args, kws)
			if err != nil {
				return nil, r.errAt(e.line, err)
			}
			return v, nil
		}
		f, err := getattr(recv, ga.name)
		if err != nil {
			return nil, r.errAt(ga.line, err)
		}
		return r.call(f, s, e)
	}
	f, err := e.fn.eval(r, s)
	if err != nil {
		return nil, err
	}
	return r.call(f, s, e)
}

func (r *renderer) call(f any, s *scope, e *callExpr) (any, error) {
	args, kws, err := r.evalArgs(s, e.args, e.kwargs)
	if err != nil {
		return nil, err
	}
	switch fn := f.(type) {
	case *macroValue:
		return r.callMacro(fn, args, kws, e.line)
	case *builtinFunc:
		v, err := fn.fn(r, args, kws)
		if err != nil {
			return nil, r.errAt(e.line, err)
		}
		return v, nil
	case boundMethod:
		v, err := callMethod(fn.recv, fn.name, args, kws)
		if err != nil {
			return nil, r.errAt(e.line, err)
		}
		return v, nil
	case *loopCycle:
		if len(args) == 0 {
			return nil, r.errf(e.line, "no items for cycling given")
		}
		return args[fn.l.index0%len(args)], nil
	case Undefined:
		return nil, r.errAt(e.line, fn.err())
	}
	return nil, r.errf(e.line, "'%s' object is not callable", typeName(f))
}

type filterExpr struct {
	x      expr
	name   string
	fn     filterFunc
	args   []expr
	kwargs []kwarg
	line   int
}

func (e *filterExpr) eval(r *renderer, s *scope) (any, error) {
	v, err := e.x.eval(r, s)
	if err != nil {
		return nil, err
	}
	return e.apply(r, s, v)
}

func (e *filterExpr) apply(r *renderer, s *scope, v any) (any, error) {
	args, kws, err := r.evalArgs(s, e.args, e.kwargs)
	if err != nil {
		return nil, err
	}
	out, err := e.fn(r, v, args, kws)
	if err != nil {
		return nil, r.errAt(e.line, fmt.Errorf("filter %s: %w", e.name, err))
	}
	return out, nil
}

type testExpr struct {
	x      expr
	name   string
	fn     testFunc
	args   []expr
	kwargs []kwarg
	negate bool
	line   int
}

func (e *testExpr) eval(r *renderer, s *scope) (any, error) {
	v, err := e.x.eval(r, s)
	if err != nil {
		return nil, err
	}
	args, kws, err := r.evalArgs(s, e.args, e.kwargs)
	if err != nil {
		return nil, err
	}
	if len(kws) > 0 {
		return nil, r.errf(e.line, "test %s: keyword arguments are not supported", e.name)
	}
	ok, err := e.fn(v, args)
	if err != nil {
		return nil, r.errAt(e.line, fmt.Errorf("test %s: %w", e.name, err))
	}
	return ok != e.negate, nil
}

type condExpr struct {
	cond, a, b expr
	line       int
}

func (e *condExpr) eval(r *renderer, s *scope) (any, error) {
	c, err := e.cond.eval(r, s)
	if err != nil {
		return nil, err
	}
	if truthy(c) {
		return e.a.eval(r, s)
	}
	if e.b == nil {
		return Undefined{hint: "the inline if-expression on line " + fmt.Sprint(e.line) + " evaluated to false and no else section was defined."}, nil
	}
	return e.b.eval(r, s)
}

type logicExpr struct {
	or   bool
	a, b expr
}

func (e *logicExpr) eval(r *renderer, s *scope) (any, error) {
	a, err := e.a.eval(r, s)
	if err != nil {
		return nil, err
	}
	if truthy(a) == e.or {
		return a, nil
	}
	return e.b.eval(r, s)
}

type notExpr struct{ x expr }

func (e *notExpr) eval(r *renderer, s *scope) (any, error) {
	v, err := e.x.eval(r, s)
	if err != nil {
		return nil, err
	}
	return !truthy(v), nil
}

type unaryExpr struct {
	neg  bool
	x    expr
	line int
}

func (e *unaryExpr) eval(r *renderer, s *scope) (any, error) {
	v, err := e.x.eval(r, s)
	if err != nil {
		return nil, err
	}
	out, err := unary(e.neg, v)
	if err != nil {
		return nil, r.errAt(e.line, err)
	}
	return out, nil
}

type binExpr struct {
	op   string
	a, b expr
	line int
}

func (e *binExpr) eval(r *renderer, s *scope) (any, error) {
	a, err := e.a.eval(r, s)
	if err != nil {
		return nil, err
	}
	b, err := e.b.eval(r, s)
	if err != nil {
		return nil, err
	}
	v, err := binop(e.op, a, b)
	if err != nil {
		return nil, r.errAt(e.line, err)
	}
	return v, nil
}

// plusChain is a + b + c ..., evaluated left to right as Python does, with
// string operands joined in one buffer instead of one allocation per +.
type plusChain struct {
	xs    []expr
	lines []int // lines[i] is the line of the + before xs[i+1]
}

func (e *plusChain) eval(r *renderer, s *scope) (any, error) {
	start := len(r.out)
	v, inOut, err := e.run(r, s)
	if err != nil || !inOut {
		return v, err
	}
	out := string(r.out[start:])
	r.out = r.out[:start]
	return out, nil
}

func (e *plusChain) appendOut(r *renderer, s *scope) error {
	v, inOut, err := e.run(r, s)
	if err == nil && !inOut {
		r.out = appendStr(r.out, v)
	}
	return err
}

// run evaluates the chain. While the operands are strings they are appended
// to r.out and inOut is true; at the first non-string the chain continues
// with Python's + on values and returns the result.
func (e *plusChain) run(r *renderer, s *scope) (v any, inOut bool, err error) {
	start := len(r.out)
	for i, x := range e.xs {
		ov, err := x.eval(r, s)
		if err != nil {
			r.out = r.out[:start]
			return nil, false, err
		}
		if sv, ok := ov.(string); ok {
			r.out = append(r.out, sv...)
			continue
		}
		acc := ov
		if i > 0 {
			prefix := string(r.out[start:])
			r.out = r.out[:start]
			if acc, err = binop("+", prefix, ov); err != nil {
				return nil, false, r.errAt(e.lines[i-1], err)
			}
		}
		for j := i + 1; j < len(e.xs); j++ {
			ov, err := e.xs[j].eval(r, s)
			if err != nil {
				return nil, false, err
			}
			if acc, err = binop("+", acc, ov); err != nil {
				return nil, false, r.errAt(e.lines[j-1], err)
			}
		}
		return acc, false, nil
	}
	return nil, true, nil
}

type concatExpr struct{ parts []expr }

func (e *concatExpr) eval(r *renderer, s *scope) (any, error) {
	var b []byte
	for _, p := range e.parts {
		v, err := p.eval(r, s)
		if err != nil {
			return nil, err
		}
		b = appendStr(b, v)
	}
	return string(b), nil
}

type compareExpr struct {
	first expr
	ops   []string
	rest  []expr
	line  int
}

func (e *compareExpr) eval(r *renderer, s *scope) (any, error) {
	a, err := e.first.eval(r, s)
	if err != nil {
		return nil, err
	}
	for i, op := range e.ops {
		b, err := e.rest[i].eval(r, s)
		if err != nil {
			return nil, err
		}
		ok, err := compare(op, a, b)
		if err != nil {
			return nil, r.errAt(e.line, err)
		}
		if !ok {
			return false, nil
		}
		a = b
	}
	return true, nil
}

type listExpr struct {
	items []expr
	tuple bool
	line  int
}

func (e *listExpr) eval(r *renderer, s *scope) (any, error) {
	out := make([]any, len(e.items))
	for i, it := range e.items {
		v, err := it.eval(r, s)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	if e.tuple {
		return Tuple(out), nil
	}
	return out, nil
}

type dictExpr struct {
	keys, vals []expr
	line       int
}

func (e *dictExpr) eval(r *renderer, s *scope) (any, error) {
	o := &pyjson.Object{Members: make([]pyjson.Member, 0, len(e.keys))}
	for i := range e.keys {
		k, err := e.keys[i].eval(r, s)
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, r.errf(e.line, "dict keys must be strings here, got %s", typeName(k))
		}
		v, err := e.vals[i].eval(r, s)
		if err != nil {
			return nil, err
		}
		o.Set(ks, v)
	}
	return o, nil
}

// ---- numbers ----

func isRangeErr(err error) bool {
	var ne interface{ Unwrap() error }
	return errors.As(err, &ne) && strings.Contains(err.Error(), "value out of range")
}

// toBig returns an int value as *big.Int.
func toBig(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	case int64:
		return big.NewInt(x), true
	case int:
		return big.NewInt(int64(x)), true
	case *big.Int:
		return x, true
	}
	return nil, false
}

// normInt returns b as int64 when it fits.
func normInt(b *big.Int) any {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

func isInt(v any) bool {
	switch v.(type) {
	case bool, int64, int, *big.Int:
		return true
	}
	return false
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int64:
		return x, true
	case int:
		return int64(x), true
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	}
	if i, ok := asInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

func unary(neg bool, v any) (any, error) {
	if u, ok := v.(Undefined); ok {
		return nil, u.err()
	}
	if !neg {
		if isInt(v) {
			if b, ok := v.(bool); ok {
				if b {
					return int64(1), nil
				}
				return int64(0), nil
			}
			return v, nil
		}
		if _, ok := v.(float64); ok {
			return v, nil
		}
		return nil, opErrf("bad operand type for unary +: '%s'", typeName(v))
	}
	switch x := v.(type) {
	case float64:
		return -x, nil
	case int64:
		if x != math.MinInt64 {
			return -x, nil
		}
	}
	if b, ok := toBig(v); ok {
		return normInt(new(big.Int).Neg(b)), nil
	}
	return nil, opErrf("bad operand type for unary -: '%s'", typeName(v))
}

func binop(op string, a, b any) (any, error) {
	if u, ok := a.(Undefined); ok {
		return nil, u.err()
	}
	if u, ok := b.(Undefined); ok {
		return nil, u.err()
	}
	// fast path: int64 op int64
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			switch op {
			case "+":
				if s := x + y; (s > x) == (y > 0) {
					return s, nil
				}
			case "-":
				if s := x - y; (s < x) == (y > 0) {
					return s, nil
				}
			}
		}
	}
	if isInt(a) && isInt(b) {
		return intOp(op, a, b)
	}
	fa, okA := asFloat(a)
	fb, okB := asFloat(b)
	if okA && okB {
		return floatOp(op, fa, fb)
	}
	switch op {
	case "+":
		switch x := a.(type) {
		case string:
			if y, ok := b.(string); ok {
				return x + y, nil
			}
		case []any:
			if y, ok := b.([]any); ok {
				out := make([]any, 0, len(x)+len(y))
				return append(append(out, x...), y...), nil
			}
		case Tuple:
			if y, ok := b.(Tuple); ok {
				out := make(Tuple, 0, len(x)+len(y))
				return append(append(out, x...), y...), nil
			}
		}
		switch a.(type) {
		case string, []any, Tuple:
			return nil, opErrf("can only concatenate %s (not \"%s\") to %s", typeName(a), typeName(b), typeName(a))
		}
	case "*":
		if n, ok := asInt64(b); ok {
			if v, ok := repeat(a, n); ok {
				return v, nil
			}
		}
		if n, ok := asInt64(a); ok {
			if v, ok := repeat(b, n); ok {
				return v, nil
			}
		}
	case "%":
		if f, ok := a.(string); ok {
			return percentFormat(f, b)
		}
	}
	return nil, opErrf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(a), typeName(b))
}

const maxRepeat = 1 << 24

func repeat(v any, n int64) (any, bool) {
	if n < 0 {
		n = 0
	}
	switch x := v.(type) {
	case string:
		if int64(len(x))*n > maxRepeat {
			return nil, false
		}
		return strings.Repeat(x, int(n)), true
	case []any:
		if int64(len(x))*n > maxRepeat {
			return nil, false
		}
		out := make([]any, 0, len(x)*int(n))
		for i := int64(0); i < n; i++ {
			out = append(out, x...)
		}
		return out, true
	}
	return nil, false
}

func intOp(op string, a, b any) (any, error) {
	x, _ := toBig(a)
	y, _ := toBig(b)
	z := new(big.Int)
	switch op {
	case "+":
		z.Add(x, y)
	case "-":
		z.Sub(x, y)
	case "*":
		if x.BitLen()+y.BitLen() > 1<<16 {
			return nil, opErrf("integer result too large")
		}
		z.Mul(x, y)
	case "/":
		if y.Sign() == 0 {
			return nil, opErrf("division by zero")
		}
		fx, _ := new(big.Float).SetInt(x).Float64()
		fy, _ := new(big.Float).SetInt(y).Float64()
		if x.IsInt64() && y.IsInt64() && math.Abs(fx) < 1<<53 && math.Abs(fy) < 1<<53 {
			return fx / fy, nil
		}
		q, _ := new(big.Rat).SetFrac(x, y).Float64()
		return q, nil
	case "//", "%":
		if y.Sign() == 0 {
			return nil, opErrf("integer division or modulo by zero")
		}
		q, m := new(big.Int), new(big.Int)
		q.DivMod(x, y, m) // Euclidean: m >= 0
		if m.Sign() != 0 && y.Sign() < 0 {
			// Python floors: the remainder takes the divisor's sign.
			q.Add(q, big.NewInt(1))
			m.Add(m, y)
		}
		if op == "//" {
			z = q
		} else {
			z = m
		}
	case "**":
		if y.Sign() < 0 {
			fx, _ := new(big.Float).SetInt(x).Float64()
			fy, _ := new(big.Float).SetInt(y).Float64()
			return math.Pow(fx, fy), nil
		}
		if y.BitLen() > 16 || x.BitLen()*int(y.Int64()) > 1<<16 {
			return nil, opErrf("integer result too large")
		}
		z.Exp(x, y, nil)
	default:
		return nil, opErrf("unsupported operator %s", op)
	}
	return normInt(z), nil
}

func floatOp(op string, x, y float64) (any, error) {
	switch op {
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	case "/":
		if y == 0 {
			return nil, opErrf("float division by zero")
		}
		return x / y, nil
	case "//":
		if y == 0 {
			return nil, opErrf("float floor division by zero")
		}
		return math.Floor(x / y), nil
	case "%":
		if y == 0 {
			return nil, opErrf("float modulo")
		}
		m := math.Mod(x, y)
		if m != 0 && (m < 0) != (y < 0) {
			m += y
		}
		return m, nil
	case "**":
		return math.Pow(x, y), nil
	}
	return nil, opErrf("unsupported operator %s", op)
}

// compare evaluates one comparison operator with Python semantics.
func compare(op string, a, b any) (bool, error) {
	switch op {
	case "==":
		return equal(a, b), nil
	case "!=":
		return !equal(a, b), nil
	case "in", "not in":
		ok, err := contains(b, a)
		if err != nil {
			return false, err
		}
		return ok == (op == "in"), nil
	}
	c, err := order(a, b, op)
	if err == errNaN {
		return false, nil // every ordering with NaN is false
	}
	if err != nil {
		return false, err
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	default:
		return c >= 0, nil
	}
}

// equal is Python's ==.
func equal(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		if y, ok := b.(int64); ok {
			return x == y
		}
	case Undefined:
		_, ok := b.(Undefined)
		return ok
	case Tuple:
		y, ok := b.(Tuple)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Namespace, *macroValue, *loopInfo, *builtinFunc:
		return a == b
	}
	switch b.(type) {
	case Undefined, Tuple, *Namespace, *macroValue, *loopInfo, *builtinFunc:
		return false
	}
	return pyjson.Equal(a, b)
}

// order compares a and b for <, <=, >, >= (Python semantics: numbers with
// numbers, strings with strings, lists element-wise).
func order(a, b any, op string) (int, error) {
	if isNumeric(a) && isNumeric(b) {
		if x, ok := asInt64(a); ok {
			if y, ok := asInt64(b); ok {
				switch {
				case x < y:
					return -1, nil
				case x > y:
					return 1, nil
				}
				return 0, nil
			}
		}
		fa, _ := asFloat(a)
		fb, _ := asFloat(b)
		if math.IsNaN(fa) || math.IsNaN(fb) {
			return 0, errNaN
		}
		if isInt(a) && isInt(b) {
			x, _ := toBig(a)
			y, _ := toBig(b)
			return x.Cmp(y), nil
		}
		switch {
		case fa < fb:
			return -1, nil
		case fa > fb:
			return 1, nil
		}
		return 0, nil
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			return orderSeq(x, y, op)
		}
	case Tuple:
		if y, ok := b.(Tuple); ok {
			return orderSeq(x, y, op)
		}
	case Undefined:
		return 0, x.err()
	}
	if u, ok := b.(Undefined); ok {
		return 0, u.err()
	}
	return 0, opErrf("'%s' not supported between instances of '%s' and '%s'", op, typeName(a), typeName(b))
}

func orderSeq(x, y []any, op string) (int, error) {
	for i := 0; i < len(x) && i < len(y); i++ {
		if equal(x[i], y[i]) {
			continue
		}
		return order(x[i], y[i], op)
	}
	switch {
	case len(x) < len(y):
		return -1, nil
	case len(x) > len(y):
		return 1, nil
	}
	return 0, nil
}

func isNumeric(v any) bool {
	switch v.(type) {
	case bool, int64, int, *big.Int, float64:
		return true
	}
	return false
}

// contains is Python's "needle in container".
func contains(container, needle any) (bool, error) {
	switch c := container.(type) {
	case string:
		n, ok := needle.(string)
		if !ok {
			return false, opErrf("'in <string>' requires string as left operand, not %s", typeName(needle))
		}
		return strings.Contains(c, n), nil
	case []any:
		for _, e := range c {
			if equal(e, needle) {
				return true, nil
			}
		}
		return false, nil
	case Tuple:
		for _, e := range c {
			if equal(e, needle) {
				return true, nil
			}
		}
		return false, nil
	case *pyjson.Object:
		k, ok := needle.(string)
		if !ok {
			return false, nil
		}
		return c.Has(k), nil
	case Undefined:
		return false, nil
	}
	return false, opErrf("argument of type '%s' is not iterable", typeName(container))
}

// iterate returns the items a for loop visits.
func iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case Tuple:
		return x, nil
	case *pyjson.Object:
		out := make([]any, len(x.Members))
		for i, m := range x.Members {
			out[i] = m.Key
		}
		return out, nil
	case string:
		out := make([]any, 0, len(x))
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case Undefined:
		return nil, nil
	}
	return nil, opErrf("'%s' object is not iterable", typeName(v))
}

// ---- attribute and item access ----

// getattr is Jinja2's environment.getattr: the attribute first, then the item.
func getattr(obj any, name string) (any, error) {
	switch x := obj.(type) {
	case Undefined:
		return nil, x.err()
	case *pyjson.Object:
		if unsafeMethods[name] {
			return unsafeUndef(obj, name), nil
		}
		if hasMethod(x, name) {
			return boundMethod{x, name}, nil
		}
		if v, ok := x.Get(name); ok {
			return v, nil
		}
		return undefAttr(obj, name), nil
	case []any:
		if unsafeMethods[name] {
			return unsafeUndef(obj, name), nil
		}
	case *Namespace:
		if v, ok := x.obj.Get(name); ok {
			return v, nil
		}
		return undefAttr(obj, name), nil
	case *loopInfo:
		return x.attr(name)
	}
	if hasMethod(obj, name) {
		return boundMethod{obj, name}, nil
	}
	return undefAttr(obj, name), nil
}

// getitem is Jinja2's environment.getitem: the item first, then the attribute.
func getitem(obj, key any) (any, error) {
	switch x := obj.(type) {
	case Undefined:
		return nil, x.err()
	case *pyjson.Object:
		if k, ok := key.(string); ok {
			if v, ok := x.Get(k); ok {
				return v, nil
			}
			if hasMethod(x, k) {
				return boundMethod{x, k}, nil
			}
		}
		return undefItem(obj, key), nil
	case []any, Tuple, string:
		if i, ok := asInt64(key); ok {
			var n int64
			switch y := x.(type) {
			case []any:
				n = int64(len(y))
			case Tuple:
				n = int64(len(y))
			case string:
				if isASCII(y) {
					n = int64(len(y))
				} else {
					rs := []rune(y)
					if i < 0 {
						i += int64(len(rs))
					}
					if i < 0 || i >= int64(len(rs)) {
						return undefItem(obj, key), nil
					}
					return string(rs[i]), nil
				}
			}
			if i < 0 {
				i += n
			}
			if i < 0 || i >= n {
				return undefItem(obj, key), nil
			}
			switch y := x.(type) {
			case []any:
				return y[i], nil
			case Tuple:
				return y[i], nil
			case string:
				return y[i : i+1], nil
			}
		}
	}
	if k, ok := key.(string); ok {
		return getattr(obj, k)
	}
	return undefItem(obj, key), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// slice is Python's obj[start:stop:step].
func slice(obj, start, stop, step any) (any, error) {
	if u, ok := obj.(Undefined); ok {
		return nil, u.err()
	}
	var n int
	var runes []rune
	switch x := obj.(type) {
	case []any:
		n = len(x)
	case Tuple:
		n = len(x)
	case string:
		if isASCII(x) {
			n = len(x)
		} else {
			runes = []rune(x)
			n = len(runes)
		}
	default:
		return nil, opErrf("'%s' object is not subscriptable", typeName(obj))
	}
	idx := func(v any, def int64) (int64, bool, error) {
		if v == nil {
			return def, false, nil
		}
		i, ok := asInt64(v)
		if !ok {
			return 0, false, opErrf("slice indices must be integers or None")
		}
		return i, true, nil
	}
	st, _, err := idx(step, 1)
	if err != nil {
		return nil, err
	}
	if st == 0 {
		return nil, opErrf("slice step cannot be zero")
	}
	ln := int64(n)
	var lo, hi int64
	if st > 0 {
		lo, hi = 0, ln
	} else {
		lo, hi = ln-1, -1
	}
	clamp := func(i int64) int64 {
		if i < 0 {
			i += ln
			if i < 0 {
				if st < 0 {
					return -1
				}
				return 0
			}
		} else if i >= ln {
			if st < 0 {
				return ln - 1
			}
			return ln
		}
		return i
	}
	if v, set, err := idx(start, 0); err != nil {
		return nil, err
	} else if set {
		lo = clamp(v)
	}
	if v, set, err := idx(stop, 0); err != nil {
		return nil, err
	} else if set {
		hi = clamp(v)
	}
	var sel []int64
	if st > 0 {
		for i := lo; i < hi; i += st {
			sel = append(sel, i)
		}
	} else {
		for i := lo; i > hi; i += st {
			sel = append(sel, i)
		}
	}
	switch x := obj.(type) {
	case []any:
		out := make([]any, len(sel))
		for k, i := range sel {
			out[k] = x[i]
		}
		return out, nil
	case Tuple:
		out := make(Tuple, len(sel))
		for k, i := range sel {
			out[k] = x[i]
		}
		return out, nil
	case string:
		var b strings.Builder
		for _, i := range sel {
			if runes != nil {
				b.WriteRune(runes[i])
			} else {
				b.WriteByte(x[i])
			}
		}
		return b.String(), nil
	}
	return nil, nil
}

// loop attributes
type loopCycle struct{ l *loopInfo }

func (l *loopInfo) attr(name string) (any, error) {
	switch name {
	case "index0":
		return int64(l.index0), nil
	case "index":
		return int64(l.index0 + 1), nil
	case "revindex":
		return int64(l.length - l.index0), nil
	case "revindex0":
		return int64(l.length - l.index0 - 1), nil
	case "first":
		return l.index0 == 0, nil
	case "last":
		return l.index0 == l.length-1, nil
	case "length":
		return int64(l.length), nil
	case "depth":
		return int64(1), nil
	case "depth0":
		return int64(0), nil
	case "previtem":
		if l.index0 == 0 {
			return Undefined{hint: "there is no previous item"}, nil
		}
		return l.items[l.index0-1], nil
	case "nextitem":
		if l.index0 == l.length-1 {
			return Undefined{hint: "there is no next item"}, nil
		}
		return l.items[l.index0+1], nil
	case "cycle":
		return &loopCycle{l}, nil
	}
	return undefAttr(l, name), nil
}
