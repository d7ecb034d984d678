// Package jinja is a Jinja2 subset engine for chat templates, configured as
// Hugging Face's apply_chat_template configures Jinja2: trim_blocks and
// lstrip_blocks on, keep_trailing_newline off, default Undefined, the
// loopcontrols extension (break, continue), HF's {% generation %} tag, and
// an immutable sandbox (lists and dicts cannot be mutated).
//
// Values are those of package pyjson (nil, bool, int64, *big.Int, float64,
// string, []any, *pyjson.Object) plus Tuple, Namespace and Undefined, with
// Python semantics for truthiness, ==, str(), arithmetic and comparison.
// tojson is json.dumps(x, ensure_ascii=False) with key order kept.
//
// Anything the engine does not support is a parse error (unknown filter,
// test or tag) or a render error, always an *Error naming the template and
// line; it never silently renders something Jinja2 would not.
//
// A Template is immutable after Parse and safe for concurrent Render calls.
package jinja

import (
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/star-go/star/internal/pyjson"
)

// Template is a parsed template.
type Template struct {
	name string
	body []stmt
	now  func() time.Time // clock for strftime_now (tests may fix it)
	// sizeHint is the largest output so far (capped), to size the buffer.
	sizeHint *atomic.Int64
}

// Parse parses src; name is used in error messages.
func Parse(name, src string) (t *Template, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, newError(name, 0, "internal error while parsing: %v", p)
		}
	}()
	toks, err := lex(name, src)
	if err != nil {
		return nil, err
	}
	p := &parser{name: name, toks: toks}
	body, err := p.parseTemplate()
	if err != nil {
		return nil, err
	}
	return &Template{name: name, body: body, sizeHint: new(atomic.Int64)}, nil
}

// Name is the template name given to Parse.
func (t *Template) Name() string { return t.name }

// WithClock returns a copy of t whose strftime_now uses now.
func (t *Template) WithClock(now func() time.Time) *Template {
	c := *t
	c.now = now
	return &c
}

// Render renders the template with vars as the template's variables. Values
// must be pyjson values (or int, which is treated as int64 at the top level).
func (t *Template) Render(vars map[string]any) (out string, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = "", newError(t.name, 0, "internal error while rendering: %v", p)
		}
	}()
	root := &scope{names: make([]string, 0, len(vars)), vals: make([]any, 0, len(vars))}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := normalizeValue(vars[k])
		if err != nil {
			return "", newError(t.name, 0, "variable %s: %v", k, err)
		}
		root.set(k, v)
	}
	r := &renderer{t: t, out: make([]byte, 0, t.sizeHint.Load()+64)}
	if err := r.execBody(t.body, newScope(root)); err != nil {
		if err == errBreak || err == errContinue {
			return "", newError(t.name, 0, "break or continue outside of a loop")
		}
		var e *Error
		if errors.As(err, &e) {
			return "", e
		}
		return "", newError(t.name, 0, "%v", err)
	}
	if n := int64(len(r.out)); n > t.sizeHint.Load() && n < 1<<20 {
		t.sizeHint.Store(n)
	}
	if len(r.out) == 0 {
		return "", nil
	}
	// r.out is not used after this point, so the string can share its bytes.
	return unsafe.String(unsafe.SliceData(r.out), len(r.out)), nil
}

// normalizeValue converts common Go values to the engine's value types.
func normalizeValue(v any) (any, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case map[string]any:
		return nil, fmt.Errorf("map[string]any has no key order; pass a *pyjson.Object")
	case nil, bool, int64, float64, string, []any, *pyjson.Object, Tuple, Undefined:
		return v, nil
	}
	if pyjson.IsNumber(v) {
		return v, nil
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// PyJSONList exposes a Tuple as a list to pyjson's indented printer.
func (t Tuple) PyJSONList() []any { return []any(t) }
