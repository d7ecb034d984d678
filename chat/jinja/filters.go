package jinja

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/star-go/star/internal/pyjson"
)

type filterFunc func(r *renderer, v any, args []any, kw []kwval) (any, error)

type testFunc func(v any, args []any) (bool, error)

var filters map[string]filterFunc

var tests map[string]testFunc

var globals map[string]any

// params binds positional and keyword arguments to named parameters with
// defaults, as a Python signature would.
func params(fn string, args []any, kw []kwval, names []string, defs ...any) ([]any, error) {
	if len(args) > len(names) {
		return nil, opErrf("%s() takes at most %d argument(s) (%d given)", fn, len(names), len(args))
	}
	out := make([]any, len(names))
	set := make([]bool, len(names))
	for i, a := range args {
		out[i], set[i] = a, true
	}
	for _, k := range kw {
		found := false
		for i, n := range names {
			if n == k.name {
				if set[i] {
					return nil, opErrf("%s() got multiple values for argument '%s'", fn, n)
				}
				out[i], set[i], found = k.v, true, true
			}
		}
		if !found {
			return nil, opErrf("%s() got an unexpected keyword argument '%s'", fn, k.name)
		}
	}
	for i := range names {
		if !set[i] {
			if i >= len(defs) || defs[i] == required {
				return nil, opErrf("%s() missing required argument '%s'", fn, names[i])
			}
			out[i] = defs[i]
		}
	}
	return out, nil
}

type requiredMarker struct{}

var required any = requiredMarker{}

func noArgs(fn string, args []any, kw []kwval) error {
	if len(args) > 0 || len(kw) > 0 {
		return opErrf("%s() takes no arguments", fn)
	}
	return nil
}

func length(v any) (int, error) {
	switch x := v.(type) {
	case string:
		return utf8.RuneCountInString(x), nil
	case []any:
		return len(x), nil
	case Tuple:
		return len(x), nil
	case *pyjson.Object:
		return x.Len(), nil
	case Undefined:
		return 0, nil
	case *Namespace:
		return 0, opErrf("object of type 'Namespace' has no len()")
	}
	return 0, opErrf("object of type '%s' has no len()", typeName(v))
}

func toList(v any) ([]any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	copy(out, items)
	return out, nil
}

func str(v any) string { return pyStr(v) }

// pyStrip is str.strip(chars) / lstrip / rstrip.
func pyStrip(s string, chars any, left, right bool) (string, error) {
	var f func(rune) bool
	switch c := chars.(type) {
	case nil:
		f = isPySpace
	case string:
		f = func(r rune) bool { return strings.ContainsRune(c, r) }
	default:
		return "", opErrf("strip arg must be None or str")
	}
	if left {
		s = strings.TrimLeftFunc(s, f)
	}
	if right {
		s = strings.TrimRightFunc(s, f)
	}
	return s, nil
}

func jsonValue(v any) error {
	switch x := v.(type) {
	case nil, bool, int64, int, *big.Int, float64, string:
		return nil
	case []any:
		for _, e := range x {
			if err := jsonValue(e); err != nil {
				return err
			}
		}
		return nil
	case Tuple:
		for _, e := range x {
			if err := jsonValue(e); err != nil {
				return err
			}
		}
		return nil
	case *pyjson.Object:
		for _, m := range x.Members {
			if err := jsonValue(m.Value); err != nil {
				return err
			}
		}
		return nil
	}
	return opErrf("Object of type %s is not JSON serializable", typeName(v))
}

// tupleJSON lets pyjson print a Tuple as a JSON array.
func (t Tuple) AppendPyJSON(dst []byte, opt *pyjson.Options) []byte {
	return pyjson.Append(dst, []any(t), opt)
}

func sortKeys(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sortKeys(e)
		}
		return out
	case Tuple:
		return sortKeys([]any(x))
	case *pyjson.Object:
		o := &pyjson.Object{Members: make([]pyjson.Member, len(x.Members))}
		for i, m := range x.Members {
			o.Members[i] = pyjson.Member{Key: m.Key, Value: sortKeys(m.Value)}
		}
		sort.SliceStable(o.Members, func(i, j int) bool { return o.Members[i].Key < o.Members[j].Key })
		return o
	}
	return v
}

func filterToJSON(r *renderer, v any, args []any, kw []kwval) (any, error) {
	p, err := params("tojson", args, kw, []string{"ensure_ascii", "indent", "separators", "sort_keys"}, false, nil, nil, false)
	if err != nil {
		return nil, err
	}
	if err := jsonValue(v); err != nil {
		return nil, err
	}
	compact := false
	if p[2] != nil {
		sep, ok := p[2].(Tuple)
		if !ok {
			if l, isList := p[2].([]any); isList {
				sep, ok = Tuple(l), true
			}
		}
		switch {
		case ok && len(sep) == 2 && sep[0] == ", " && sep[1] == ": " && p[1] == nil:
		case ok && len(sep) == 2 && sep[0] == "," && sep[1] == ":" && p[1] == nil:
			compact = true
		default:
			return nil, opErrf("only separators (\", \", \": \") and (\",\", \":\") without indent are supported")
		}
	}
	if truthy(p[3]) {
		v = sortKeys(v)
	}
	ascii := truthy(p[0])
	switch ind := p[1].(type) {
	case nil:
		return string(pyjson.Append(nil, v, &pyjson.Options{EnsureASCII: ascii, Compact: compact})), nil
	case int64:
		return string(pyjson.AppendIndent(nil, v, strings.Repeat(" ", int(max(ind, 0))), ascii)), nil
	case string:
		return string(pyjson.AppendIndent(nil, v, ind, ascii)), nil
	}
	return nil, opErrf("tojson: indent must be an int or a string")
}

func filterDefault(r *renderer, v any, args []any, kw []kwval) (any, error) {
	p, err := params("default", args, kw, []string{"default_value", "boolean"}, "", false)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(Undefined); ok || (truthy(p[1]) && !truthy(v)) {
		return p[0], nil
	}
	return v, nil
}

func attrGetter(attr any) func(any) (any, error) {
	s, isStr := attr.(string)
	if !isStr {
		return func(v any) (any, error) { return getitem(v, attr) }
	}
	parts := strings.Split(s, ".")
	return func(v any) (any, error) {
		var err error
		for _, p := range parts {
			if i, e := strconv.ParseInt(p, 10, 64); e == nil {
				v, err = getitem(v, i)
			} else {
				v, err = getitem(v, p)
			}
			if err != nil {
				return nil, err
			}
		}
		return v, nil
	}
}

func selectFilter(byAttr, keep bool) filterFunc {
	return func(r *renderer, v any, args []any, kw []kwval) (any, error) {
		if len(kw) > 0 {
			return nil, opErrf("keyword arguments are not supported")
		}
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		get := func(x any) (any, error) { return x, nil }
		if byAttr {
			if len(args) == 0 {
				return nil, opErrf("missing attribute name")
			}
			get = attrGetter(args[0])
			args = args[1:]
		}
		test := func(x any) (bool, error) { return truthy(x), nil }
		if len(args) > 0 {
			name, ok := args[0].(string)
			if !ok {
				return nil, opErrf("test name must be a string")
			}
			fn, ok := tests[name]
			if !ok {
				return nil, opErrf("unknown test %q", name)
			}
			rest := args[1:]
			test = func(x any) (bool, error) { return fn(x, rest) }
		}
		out := []any{}
		for _, it := range items {
			x, err := get(it)
			if err != nil {
				return nil, err
			}
			ok, err := test(x)
			if err != nil {
				return nil, err
			}
			if ok == keep {
				out = append(out, it)
			}
		}
		return out, nil
	}
}

func filterMap(r *renderer, v any, args []any, kw []kwval) (any, error) {
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(items))
	if len(args) == 0 {
		var attr, def any
		hasDef := false
		for _, k := range kw {
			switch k.name {
			case "attribute":
				attr = k.v
			case "default":
				def, hasDef = k.v, true
			default:
				return nil, opErrf("map() got an unexpected keyword argument '%s'", k.name)
			}
		}
		if attr == nil {
			return nil, opErrf("map requires a filter name or attribute=")
		}
		get := attrGetter(attr)
		for _, it := range items {
			x, err := get(it)
			if err != nil {
				return nil, err
			}
			if _, u := x.(Undefined); u && hasDef {
				x = def
			}
			out = append(out, x)
		}
		return out, nil
	}
	name, ok := args[0].(string)
	if !ok {
		return nil, opErrf("map: filter name must be a string")
	}
	fn, ok := filters[name]
	if !ok {
		return nil, opErrf("unknown filter %q", name)
	}
	for _, it := range items {
		x, err := fn(r, it, args[1:], kw)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func filterJoin(r *renderer, v any, args []any, kw []kwval) (any, error) {
	p, err := params("join", args, kw, []string{"d", "attribute"}, "", nil)
	if err != nil {
		return nil, err
	}
	items, err := iterate(v)
	if err != nil {
		return nil, err
	}
	var get func(any) (any, error)
	if p[1] != nil {
		get = attrGetter(p[1])
	}
	sep := str(p[0])
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString(sep)
		}
		if get != nil {
			if it, err = get(it); err != nil {
				return nil, err
			}
		}
		b.WriteString(str(it))
	}
	return b.String(), nil
}

func toInt(v any, def any, base int) any {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case int64, *big.Int:
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return def
		}
		b, _ := big.NewFloat(math.Trunc(x)).Int(nil)
		return normInt(b)
	case string:
		s := strings.TrimFunc(x, isPySpace)
		s = strings.ReplaceAll(s, "_", "")
		if b, ok := new(big.Int).SetString(s, base); ok {
			return normInt(b)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			b, _ := big.NewFloat(math.Trunc(f)).Int(nil)
			return normInt(b)
		}
	}
	return def
}

func filterInt(r *renderer, v any, args []any, kw []kwval) (any, error) {
	p, err := params("int", args, kw, []string{"default", "base"}, int64(0), int64(10))
	if err != nil {
		return nil, err
	}
	base, _ := asInt64(p[1])
	if base < 2 || base > 36 {
		base = 10
	}
	return toInt(v, p[0], int(base)), nil
}

func filterFloat(r *renderer, v any, args []any, kw []kwval) (any, error) {
	p, err := params("float", args, kw, []string{"default"}, 0.0)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case string:
		s := strings.ToLower(strings.TrimFunc(x, isPySpace))
		switch s {
		case "inf", "+inf", "infinity", "+infinity":
			return math.Inf(1), nil
		case "-inf", "-infinity":
			return math.Inf(-1), nil
		case "nan", "+nan", "-nan":
			return math.NaN(), nil
		}
		if f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil {
			return f, nil
		}
		return p[0], nil
	}
	if f, ok := asFloat(v); ok {
		return f, nil
	}
	return p[0], nil
}

// pySplitLines is Python's str.splitlines().
func pySplitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			out = append(out, s[start:i])
			if r == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				n++
			}
			start = i + n
		}
		i += n
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func filterIndent(r *renderer, v any, args []any, kw []kwval) (any, error) {
	p, err := params("indent", args, kw, []string{"width", "first", "blank"}, int64(4), false, false)
	if err != nil {
		return nil, err
	}
	var ind string
	switch w := p[0].(type) {
	case string:
		ind = w
	default:
		n, ok := asInt64(w)
		if !ok {
			return nil, opErrf("indent width must be an int or a string")
		}
		ind = strings.Repeat(" ", int(max(min(n, 1<<16), 0)))
	}
	s := str(v) + "\n"
	lines := pySplitLines(s)
	var rv string
	if truthy(p[2]) {
		rv = strings.Join(lines, "\n"+ind)
	} else {
		rv = lines[0]
		if len(lines) > 1 {
			var b strings.Builder
			b.WriteString(rv)
			b.WriteByte('\n')
			for i, l := range lines[1:] {
				if i > 0 {
					b.WriteByte('\n')
				}
				if l != "" {
					b.WriteString(ind)
				}
				b.WriteString(l)
			}
			rv = b.String()
		}
	}
	if truthy(p[1]) {
		rv = ind + rv
	}
	return rv, nil
}

// pyCapitalize is str.capitalize().
func pyCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + strings.ToLower(s[n:])
}

// jinjaTitle is Jinja2's title filter: words begin after -, whitespace, (, {, [ or <.
func jinjaTitle(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		if r == '-' || r == '(' || r == '{' || r == '[' || r == '<' || isPySpace(r) {
			b.WriteRune(r)
			start = true
			continue
		}
		if start {
			b.WriteRune(unicode.ToUpper(r))
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
		start = false
	}
	return b.String()
}

// pyTitle is Python's str.title(): a cased letter after an uncased char starts a word.
func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		if prevCased {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToTitle(r))
		}
		prevCased = unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
	}
	return b.String()
}

func pyReplace(s, old, new string, count int64) string {
	if count < 0 {
		return strings.ReplaceAll(s, old, new)
	}
	return strings.Replace(s, old, new, int(count))
}

func simple(fn func(v any) (any, error)) filterFunc {
	return func(r *renderer, v any, args []any, kw []kwval) (any, error) {
		if len(args) > 0 || len(kw) > 0 {
			return nil, opErrf("takes no arguments")
		}
		return fn(v)
	}
}

func init() {
	filters = map[string]filterFunc{
		"length": simple(func(v any) (any, error) { n, err := length(v); return int64(n), err }),
		"tojson": filterToJSON,
		"trim": func(r *renderer, v any, args []any, kw []kwval) (any, error) {
			p, err := params("trim", args, kw, []string{"chars"}, nil)
			if err != nil {
				return nil, err
			}
			return pyStrip(str(v), p[0], true, true)
		},
		"string":     simple(func(v any) (any, error) { return str(v), nil }),
		"lower":      simple(func(v any) (any, error) { return strings.ToLower(str(v)), nil }),
		"upper":      simple(func(v any) (any, error) { return strings.ToUpper(str(v)), nil }),
		"capitalize": simple(func(v any) (any, error) { return pyCapitalize(str(v)), nil }),
		"title":      simple(func(v any) (any, error) { return jinjaTitle(str(v)), nil }),
		"default":    filterDefault,
		"join":       filterJoin,
		"first": simple(func(v any) (any, error) {
			items, err := iterate(v)
			if err != nil {
				return nil, err
			}
			if len(items) == 0 {
				return Undefined{hint: "No first item, sequence was empty."}, nil
			}
			return items[0], nil
		}),
		"last": simple(func(v any) (any, error) {
			items, err := iterate(v)
			if err != nil {
				return nil, err
			}
			if len(items) == 0 {
				return Undefined{hint: "No last item, sequence was empty."}, nil
			}
			return items[len(items)-1], nil
		}),
		"list": simple(func(v any) (any, error) { return toList(v) }),
		"items": simple(func(v any) (any, error) {
			switch x := v.(type) {
			case Undefined:
				return []any{}, nil
			case *pyjson.Object:
				return dictItems(x), nil
			}
			return nil, opErrf("can only get item pairs from a mapping, not %s", typeName(v))
		}),
		"selectattr": selectFilter(true, true),
		"rejectattr": selectFilter(true, false),
		"select":     selectFilter(false, true),
		"reject":     selectFilter(false, false),
		"map":        filterMap,
		"replace": func(r *renderer, v any, args []any, kw []kwval) (any, error) {
			p, err := params("replace", args, kw, []string{"old", "new", "count"}, required, required, nil)
			if err != nil {
				return nil, err
			}
			count := int64(-1)
			if p[2] != nil {
				c, ok := asInt64(p[2])
				if !ok {
					return nil, opErrf("count must be an int")
				}
				count = c
			}
			return pyReplace(str(v), str(p[0]), str(p[1]), count), nil
		},
		"int":   filterInt,
		"float": filterFloat,
		"abs": simple(func(v any) (any, error) {
			switch x := v.(type) {
			case float64:
				return math.Abs(x), nil
			case Undefined:
				return nil, x.err()
			}
			if b, ok := toBig(v); ok {
				return normInt(new(big.Int).Abs(b)), nil
			}
			return nil, opErrf("bad operand type for abs(): '%s'", typeName(v))
		}),
		"indent":  filterIndent,
		"safe":    simple(func(v any) (any, error) { return v, nil }),
		"reverse": simple(reverse),
		"sort":    filterSort,
		"min":     minMax(true),
		"max":     minMax(false),
		"format": func(r *renderer, v any, args []any, kw []kwval) (any, error) {
			if len(kw) > 0 {
				return nil, opErrf("keyword arguments are not supported")
			}
			if len(args) == 1 {
				return percentFormat(str(v), args[0])
			}
			return percentFormat(str(v), Tuple(args))
		},
		"attr": func(r *renderer, v any, args []any, kw []kwval) (any, error) {
			p, err := params("attr", args, kw, []string{"name"}, required)
			if err != nil {
				return nil, err
			}
			name, ok := p[0].(string)
			if !ok {
				return nil, opErrf("attribute name must be a string")
			}
			switch v.(type) {
			case *pyjson.Object:
				// attr() looks up attributes only: a dict's keys are not attributes.
				if hasMethod(v, name) && !unsafeMethods[name] {
					return boundMethod{v, name}, nil
				}
				return undefAttr(v, name), nil
			}
			return getattr(v, name)
		},
		"unique": simple(func(v any) (any, error) {
			items, err := iterate(v)
			if err != nil {
				return nil, err
			}
			out := []any{}
			for _, it := range items {
				dup := false
				for _, o := range out {
					if equal(o, it) {
						dup = true
						break
					}
				}
				if !dup {
					out = append(out, it)
				}
			}
			return out, nil
		}),
		"sum": func(r *renderer, v any, args []any, kw []kwval) (any, error) {
			p, err := params("sum", args, kw, []string{"attribute", "start"}, nil, int64(0))
			if err != nil {
				return nil, err
			}
			items, err := iterate(v)
			if err != nil {
				return nil, err
			}
			acc := p[1]
			for _, it := range items {
				if p[0] != nil {
					if it, err = attrGetter(p[0])(it); err != nil {
						return nil, err
					}
				}
				if acc, err = binop("+", acc, it); err != nil {
					return nil, err
				}
			}
			return acc, nil
		},
		"round": func(r *renderer, v any, args []any, kw []kwval) (any, error) {
			p, err := params("round", args, kw, []string{"precision", "method"}, int64(0), "common")
			if err != nil {
				return nil, err
			}
			f, ok := asFloat(v)
			if !ok {
				return nil, opErrf("round needs a number")
			}
			prec, _ := asInt64(p[0])
			m := math.Pow(10, float64(prec))
			switch p[1] {
			case "common":
				return math.Round(f*m) / m, nil
			case "floor":
				return math.Floor(f*m) / m, nil
			case "ceil":
				return math.Ceil(f*m) / m, nil
			}
			return nil, opErrf("method must be common, ceil or floor")
		},
		"count": simple(func(v any) (any, error) { n, err := length(v); return int64(n), err }),
		"d":     nil,
		"e":     simple(func(v any) (any, error) { return htmlEscape(str(v)), nil }),
		"escape": simple(func(v any) (any, error) {
			return htmlEscape(str(v)), nil
		}),
		"dictsort": simple(func(v any) (any, error) {
			o, ok := v.(*pyjson.Object)
			if !ok {
				return nil, opErrf("dictsort needs a dict")
			}
			items := dictItems(o)
			sort.SliceStable(items, func(i, j int) bool {
				return strings.ToLower(items[i].(Tuple)[0].(string)) < strings.ToLower(items[j].(Tuple)[0].(string))
			})
			return items, nil
		}),
	}
	filters["d"] = filters["default"]

	tests = map[string]testFunc{
		"defined":   func(v any, a []any) (bool, error) { _, u := v.(Undefined); return !u, nil },
		"undefined": func(v any, a []any) (bool, error) { _, u := v.(Undefined); return u, nil },
		"none":      func(v any, a []any) (bool, error) { return v == nil, nil },
		"string":    func(v any, a []any) (bool, error) { _, ok := v.(string); return ok, nil },
		"mapping": func(v any, a []any) (bool, error) {
			_, ok := v.(*pyjson.Object)
			return ok, nil
		},
		"sequence": func(v any, a []any) (bool, error) {
			switch v.(type) {
			case string, []any, Tuple, *pyjson.Object, Undefined:
				return true, nil
			}
			return false, nil
		},
		"iterable": func(v any, a []any) (bool, error) {
			switch v.(type) {
			case string, []any, Tuple, *pyjson.Object, Undefined:
				return true, nil
			}
			return false, nil
		},
		"number":  func(v any, a []any) (bool, error) { return isNumeric(v), nil },
		"integer": func(v any, a []any) (bool, error) { _, b := v.(bool); return isInt(v) && !b, nil },
		"float":   func(v any, a []any) (bool, error) { _, ok := v.(float64); return ok, nil },
		"boolean": func(v any, a []any) (bool, error) { _, ok := v.(bool); return ok, nil },
		"true":    func(v any, a []any) (bool, error) { b, ok := v.(bool); return ok && b, nil },
		"false":   func(v any, a []any) (bool, error) { b, ok := v.(bool); return ok && !b, nil },
		"callable": func(v any, a []any) (bool, error) {
			switch v.(type) {
			case *macroValue, *builtinFunc, boundMethod, *loopCycle, Undefined:
				return true, nil // Undefined has __call__ (calling it errors)
			}
			return false, nil
		},
		"lower": func(v any, a []any) (bool, error) {
			s, ok := v.(string)
			return ok && strings.ToLower(s) == s, nil
		},
		"upper": func(v any, a []any) (bool, error) {
			s, ok := v.(string)
			return ok && strings.ToUpper(s) == s, nil
		},
		"odd": func(v any, a []any) (bool, error) {
			b, ok := toBig(v)
			if !ok {
				return false, opErrf("odd needs an int")
			}
			return b.Bit(0) == 1, nil
		},
		"even": func(v any, a []any) (bool, error) {
			b, ok := toBig(v)
			if !ok {
				return false, opErrf("even needs an int")
			}
			return b.Bit(0) == 0, nil
		},
		"divisibleby": func(v any, a []any) (bool, error) {
			if len(a) != 1 {
				return false, opErrf("divisibleby takes one argument")
			}
			m, err := binop("%", v, a[0])
			if err != nil {
				return false, err
			}
			return equal(m, int64(0)), nil
		},
		"sameas": func(v any, a []any) (bool, error) {
			if len(a) != 1 {
				return false, opErrf("sameas takes one argument")
			}
			switch x := v.(type) {
			case nil, bool:
				return x == a[0], nil
			}
			return equal(v, a[0]) && typeName(v) == typeName(a[0]), nil
		},
		"in": func(v any, a []any) (bool, error) {
			if len(a) != 1 {
				return false, opErrf("in takes one argument")
			}
			return contains(a[0], v)
		},
	}
	cmpTest := func(op string) testFunc {
		return func(v any, a []any) (bool, error) {
			if len(a) != 1 {
				return false, opErrf("takes one argument")
			}
			return compare(op, v, a[0])
		}
	}
	for op, names := range map[string][]string{"==": {"equalto", "eq", "=="}, "!=": {"ne", "!="}, "<": {"lt", "lessthan", "<"}, "<=": {"le", "<="}, ">": {"gt", "greaterthan", ">"}, ">=": {"ge", ">="}} {
		for _, n := range names {
			tests[n] = cmpTest(op)
		}
	}

	globals = map[string]any{
		"namespace": &builtinFunc{"namespace", func(r *renderer, args []any, kw []kwval) (any, error) {
			ns := &Namespace{obj: &pyjson.Object{}}
			for _, a := range args {
				o, ok := a.(*pyjson.Object)
				if !ok {
					return nil, opErrf("namespace() positional argument must be a dict")
				}
				for _, m := range o.Members {
					ns.obj.Set(m.Key, m.Value)
				}
			}
			for _, k := range kw {
				ns.obj.Set(k.name, k.v)
			}
			return ns, nil
		}},
		"dict": &builtinFunc{"dict", func(r *renderer, args []any, kw []kwval) (any, error) {
			o := &pyjson.Object{}
			for _, a := range args {
				src, ok := a.(*pyjson.Object)
				if !ok {
					return nil, opErrf("dict() positional argument must be a dict")
				}
				for _, m := range src.Members {
					o.Set(m.Key, m.Value)
				}
			}
			for _, k := range kw {
				o.Set(k.name, k.v)
			}
			return o, nil
		}},
		"range": &builtinFunc{"range", func(r *renderer, args []any, kw []kwval) (any, error) {
			if len(kw) > 0 || len(args) == 0 || len(args) > 3 {
				return nil, opErrf("range() takes 1 to 3 integer arguments")
			}
			var n [3]int64
			for i, a := range args {
				x, ok := asInt64(a)
				if !ok {
					return nil, opErrf("range() arguments must be integers")
				}
				n[i] = x
			}
			start, stop, step := int64(0), n[0], int64(1)
			if len(args) > 1 {
				start, stop = n[0], n[1]
			}
			if len(args) > 2 {
				step = n[2]
			}
			if step == 0 {
				return nil, opErrf("range() arg 3 must not be zero")
			}
			out := []any{}
			for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
				if len(out) >= 100000 {
					return nil, opErrf("range too big (more than 100000 items)")
				}
				out = append(out, i)
			}
			return out, nil
		}},
		"raise_exception": &builtinFunc{"raise_exception", func(r *renderer, args []any, kw []kwval) (any, error) {
			msg := ""
			if len(args) > 0 {
				msg = str(args[0])
			}
			return nil, &raised{msg}
		}},
		"strftime_now": &builtinFunc{"strftime_now", func(r *renderer, args []any, kw []kwval) (any, error) {
			if len(args) != 1 {
				return nil, opErrf("strftime_now() takes one argument")
			}
			f, ok := args[0].(string)
			if !ok {
				return nil, opErrf("strftime_now() format must be a string")
			}
			now := time.Now()
			if r.t.now != nil {
				now = r.t.now()
			}
			return strftime(now, f)
		}},
	}
}

// raised is an error from raise_exception().
type raised struct{ msg string }

func (e *raised) Error() string { return e.msg }

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&#34;", "'", "&#39;").Replace(s)
}

func reverse(v any) (any, error) {
	switch x := v.(type) {
	case string:
		rs := []rune(x)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		return string(rs), nil
	}
	items, err := toList(v)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
		items[i], items[j] = items[j], items[i]
	}
	return items, nil
}

func dictItems(o *pyjson.Object) []any {
	out := make([]any, len(o.Members))
	for i, m := range o.Members {
		out[i] = Tuple{m.Key, m.Value}
	}
	return out
}

// ---- methods ----

var strMethods = map[string]bool{"startswith": true, "endswith": true, "split": true, "rsplit": true, "strip": true, "lstrip": true, "rstrip": true,
	"replace": true, "lower": true, "upper": true, "title": true, "capitalize": true, "format": true, "find": true, "rfind": true, "count": true,
	"join": true, "splitlines": true, "isdigit": true, "isalpha": true, "isspace": true, "isalnum": true, "islower": true, "isupper": true}

var dictMethods = map[string]bool{"items": true, "keys": true, "values": true, "get": true}

// mutating methods HF's ImmutableSandboxedEnvironment refuses.
var unsafeMethods = map[string]bool{"append": true, "extend": true, "insert": true, "pop": true, "remove": true, "clear": true, "update": true, "setdefault": true, "popitem": true, "sort": true, "reverse": true}

func hasMethod(recv any, name string) bool {
	switch recv.(type) {
	case string:
		return strMethods[name]
	case *pyjson.Object:
		return dictMethods[name] || unsafeMethods[name]
	case []any:
		return unsafeMethods[name] || name == "index" || name == "count"
	}
	return false
}

func callMethod(recv any, name string, args []any, kw []kwval) (any, error) {
	switch x := recv.(type) {
	case string:
		return strMethod(x, name, args, kw)
	case *pyjson.Object:
		switch name {
		case "items":
			if err := noArgs(name, args, kw); err != nil {
				return nil, err
			}
			return dictItems(x), nil
		case "keys":
			if err := noArgs(name, args, kw); err != nil {
				return nil, err
			}
			out := make([]any, len(x.Members))
			for i, m := range x.Members {
				out[i] = m.Key
			}
			return out, nil
		case "values":
			if err := noArgs(name, args, kw); err != nil {
				return nil, err
			}
			out := make([]any, len(x.Members))
			for i, m := range x.Members {
				out[i] = m.Value
			}
			return out, nil
		case "get":
			p, err := params("get", args, kw, []string{"key", "default"}, required, nil)
			if err != nil {
				return nil, err
			}
			if k, ok := p[0].(string); ok {
				if v, ok := x.Get(k); ok {
					return v, nil
				}
			}
			return p[1], nil
		}
	case []any:
		switch name {
		case "index", "count":
			if len(args) != 1 {
				return nil, opErrf("%s() takes exactly one argument", name)
			}
			n := 0
			for i, e := range x {
				if equal(e, args[0]) {
					if name == "index" {
						return int64(i), nil
					}
					n++
				}
			}
			if name == "index" {
				return nil, opErrf("%s is not in list", pyRepr(args[0]))
			}
			return int64(n), nil
		}
	}
	if unsafeMethods[name] {
		return nil, opErrf("access to attribute '%s' of '%s' object is unsafe (HF renders chat templates in an immutable sandbox)", name, typeName(recv))
	}
	return nil, opErrf("'%s' object has no attribute '%s'", typeName(recv), name)
}

func strArg(fn string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", opErrf("%s() argument must be str, not %s", fn, typeName(v))
	}
	return s, nil
}

func strMethod(s, name string, args []any, kw []kwval) (any, error) {
	switch name {
	case "startswith", "endswith":
		if len(kw) > 0 || len(args) != 1 {
			return nil, opErrf("%s() takes exactly one argument here", name)
		}
		var cands []any
		switch a := args[0].(type) {
		case string:
			cands = []any{a}
		case Tuple:
			cands = a
		default:
			return nil, opErrf("%s first arg must be str or a tuple of str, not %s", name, typeName(args[0]))
		}
		for _, c := range cands {
			cs, err := strArg(name, c)
			if err != nil {
				return nil, err
			}
			if (name == "startswith" && strings.HasPrefix(s, cs)) || (name == "endswith" && strings.HasSuffix(s, cs)) {
				return true, nil
			}
		}
		return false, nil
	case "split", "rsplit":
		p, err := params(name, args, kw, []string{"sep", "maxsplit"}, nil, int64(-1))
		if err != nil {
			return nil, err
		}
		maxs, ok := asInt64(p[1])
		if !ok {
			return nil, opErrf("maxsplit must be an int")
		}
		return pySplit(s, p[0], int(maxs), name == "rsplit")
	case "strip", "lstrip", "rstrip":
		p, err := params(name, args, kw, []string{"chars"}, nil)
		if err != nil {
			return nil, err
		}
		return pyStrip(s, p[0], name != "rstrip", name != "lstrip")
	case "replace":
		p, err := params(name, args, kw, []string{"old", "new", "count"}, required, required, int64(-1))
		if err != nil {
			return nil, err
		}
		o, err := strArg(name, p[0])
		if err != nil {
			return nil, err
		}
		n, err := strArg(name, p[1])
		if err != nil {
			return nil, err
		}
		c, ok := asInt64(p[2])
		if !ok {
			return nil, opErrf("count must be an int")
		}
		return pyReplace(s, o, n, c), nil
	case "lower", "upper", "title", "capitalize", "splitlines", "isdigit", "isalpha", "isspace", "isalnum", "islower", "isupper":
		if err := noArgs(name, args, kw); err != nil {
			return nil, err
		}
		switch name {
		case "lower":
			return strings.ToLower(s), nil
		case "upper":
			return strings.ToUpper(s), nil
		case "title":
			return pyTitle(s), nil
		case "capitalize":
			return pyCapitalize(s), nil
		case "splitlines":
			lines := pySplitLines(s)
			out := make([]any, len(lines))
			for i, l := range lines {
				out[i] = l
			}
			return out, nil
		case "islower", "isupper":
			cased := false
			for _, r := range s {
				if unicode.IsUpper(r) || unicode.IsTitle(r) {
					if name == "islower" {
						return false, nil
					}
					cased = true
				}
				if unicode.IsLower(r) {
					if name == "isupper" {
						return false, nil
					}
					cased = true
				}
			}
			return cased, nil
		}
		if s == "" {
			return false, nil
		}
		for _, r := range s {
			ok := false
			switch name {
			case "isdigit":
				ok = unicode.IsDigit(r)
			case "isalpha":
				ok = unicode.IsLetter(r)
			case "isspace":
				ok = isPySpace(r)
			case "isalnum":
				ok = unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r)
			}
			if !ok {
				return false, nil
			}
		}
		return true, nil
	case "find", "rfind", "count":
		if len(kw) > 0 || len(args) != 1 {
			return nil, opErrf("%s() takes exactly one argument here", name)
		}
		sub, err := strArg(name, args[0])
		if err != nil {
			return nil, err
		}
		var i int
		switch name {
		case "count":
			if sub == "" {
				return int64(utf8.RuneCountInString(s) + 1), nil
			}
			return int64(strings.Count(s, sub)), nil
		case "find":
			i = strings.Index(s, sub)
		default:
			i = strings.LastIndex(s, sub)
		}
		if i < 0 {
			return int64(-1), nil
		}
		return int64(utf8.RuneCountInString(s[:i])), nil
	case "join":
		if len(kw) > 0 || len(args) != 1 {
			return nil, opErrf("join() takes exactly one argument")
		}
		items, err := iterate(args[0])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(items))
		for i, it := range items {
			if parts[i], err = strArg("join", it); err != nil {
				return nil, opErrf("sequence item %d: expected str instance, %s found", i, typeName(it))
			}
		}
		return strings.Join(parts, s), nil
	case "format":
		return pyFormat(s, args, kw)
	}
	return nil, opErrf("'str' object has no attribute '%s'", name)
}

// pySplit is str.split / str.rsplit.
func pySplit(s string, sep any, maxsplit int, right bool) (any, error) {
	var parts []string
	switch sp := sep.(type) {
	case nil:
		fields := strings.FieldsFunc(s, isPySpace)
		if maxsplit < 0 || maxsplit >= len(fields)-1 {
			parts = fields
		} else if !right {
			// keep the remainder after maxsplit splits, left-stripped
			rest := strings.TrimLeftFunc(s, isPySpace)
			for i := 0; i < maxsplit; i++ {
				j := strings.IndexFunc(rest, isPySpace)
				parts = append(parts, rest[:j])
				rest = strings.TrimLeftFunc(rest[j:], isPySpace)
			}
			parts = append(parts, rest)
		} else {
			rest := strings.TrimRightFunc(s, isPySpace)
			var tail []string
			for i := 0; i < maxsplit; i++ {
				j := strings.LastIndexFunc(rest, isPySpace)
				tail = append([]string{rest[j+1:]}, tail...)
				rest = strings.TrimRightFunc(rest[:j], isPySpace)
			}
			parts = append([]string{rest}, tail...)
		}
	case string:
		if sp == "" {
			return nil, opErrf("empty separator")
		}
		if !right || maxsplit < 0 {
			parts = strings.SplitN(s, sp, maxsplit+1)
			if maxsplit < 0 {
				parts = strings.Split(s, sp)
			}
		} else {
			all := strings.Split(s, sp)
			if len(all)-1 <= maxsplit {
				parts = all
			} else {
				k := len(all) - maxsplit
				parts = append([]string{strings.Join(all[:k], sp)}, all[k:]...)
			}
		}
	default:
		return nil, opErrf("must be str or None, not %s", typeName(sep))
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// pyFormat is str.format with {} / {0} / {name} fields and no format specs.
func pyFormat(f string, args []any, kw []kwval) (any, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '}' {
			if i+1 < len(f) && f[i+1] == '}' {
				i++
			}
			b.WriteByte('}')
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		j := strings.IndexByte(f[i:], '}')
		if j < 0 {
			return nil, opErrf("Single '{' encountered in format string")
		}
		field := f[i+1 : i+j]
		i += j
		if strings.ContainsAny(field, ":!.[") {
			return nil, opErrf("format: field {%s} uses conversions or format specs, which are not supported", field)
		}
		var v any
		switch {
		case field == "":
			if auto >= len(args) {
				return nil, opErrf("Replacement index %d out of range for positional args tuple", auto)
			}
			v = args[auto]
			auto++
		case field[0] >= '0' && field[0] <= '9':
			n, err := strconv.Atoi(field)
			if err != nil || n >= len(args) {
				return nil, opErrf("Replacement index %s out of range for positional args tuple", field)
			}
			v = args[n]
		default:
			found := false
			for _, k := range kw {
				if k.name == field {
					v, found = k.v, true
				}
			}
			if !found {
				return nil, opErrf("KeyError: '%s'", field)
			}
		}
		b.WriteString(str(v))
	}
	return b.String(), nil
}

// percentFormat is "fmt" % args with %s, %r, %d, %i, %f and %%.
func percentFormat(f string, arg any) (any, error) {
	var args []any
	if t, ok := arg.(Tuple); ok {
		args = t
	} else {
		args = []any{arg}
	}
	var b strings.Builder
	k := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		if i+1 >= len(f) {
			return nil, opErrf("incomplete format")
		}
		i++
		c := f[i]
		if c == '%' {
			b.WriteByte('%')
			continue
		}
		if k >= len(args) {
			return nil, opErrf("not enough arguments for format string")
		}
		a := args[k]
		k++
		switch c {
		case 's':
			b.WriteString(str(a))
		case 'r':
			b.WriteString(pyRepr(a))
		case 'd', 'i':
			n := toInt(a, nil, 10)
			if n == nil || !isNumeric(a) {
				return nil, opErrf("%%%c format: a real number is required, not %s", c, typeName(a))
			}
			b.WriteString(pyRepr(n))
		case 'f':
			x, ok := asFloat(a)
			if !ok {
				return nil, opErrf("must be real number, not %s", typeName(a))
			}
			b.WriteString(strconv.FormatFloat(x, 'f', 6, 64))
		default:
			return nil, opErrf("unsupported format character '%c'", c)
		}
	}
	if k < len(args) {
		return nil, opErrf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// strftime formats t with Python's strftime directives (C locale).
func strftime(t time.Time, f string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'B':
			b.WriteString(t.Month().String())
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday()))
		case 'Z':
			z, _ := t.Zone()
			b.WriteString(z)
		case 'z':
			b.WriteString(t.Format("-0700"))
		case '%':
			b.WriteByte('%')
		default:
			return "", opErrf("strftime_now: unsupported directive %%%c", f[i])
		}
	}
	return b.String(), nil
}

func filterSort(r *renderer, v any, args []any, kw []kwval) (any, error) {
	p, err := params("sort", args, kw, []string{"reverse", "case_sensitive", "attribute"}, false, false, nil)
	if err != nil {
		return nil, err
	}
	items, err := toList(v)
	if err != nil {
		return nil, err
	}
	keys := make([]any, len(items))
	for i, it := range items {
		k := it
		if p[2] != nil {
			if k, err = attrGetter(p[2])(it); err != nil {
				return nil, err
			}
		}
		if s, ok := k.(string); ok && !truthy(p[1]) {
			k = strings.ToLower(s)
		}
		keys[i] = k
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	var cmpErr error
	desc := truthy(p[0])
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := keys[idx[a]], keys[idx[b]]
		if desc {
			x, y = y, x
		}
		c, err := order(x, y, "<")
		if err == errNaN {
			return false
		}
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		return c < 0
	})
	if cmpErr != nil {
		return nil, cmpErr
	}
	out := make([]any, len(items))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out, nil
}

func minMax(isMin bool) filterFunc {
	return func(r *renderer, v any, args []any, kw []kwval) (any, error) {
		p, err := params("min/max", args, kw, []string{"case_sensitive", "attribute"}, false, nil)
		if err != nil {
			return nil, err
		}
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return Undefined{hint: "No aggregated item, sequence was empty."}, nil
		}
		key := func(x any) (any, error) {
			if p[1] != nil {
				if x, err = attrGetter(p[1])(x); err != nil {
					return nil, err
				}
			}
			if s, ok := x.(string); ok && !truthy(p[0]) {
				return strings.ToLower(s), nil
			}
			return x, nil
		}
		best := items[0]
		bk, err := key(best)
		if err != nil {
			return nil, err
		}
		for _, it := range items[1:] {
			k, err := key(it)
			if err != nil {
				return nil, err
			}
			c, err := order(k, bk, "<")
			if err != nil && err != errNaN {
				return nil, err
			}
			if (isMin && c < 0) || (!isMin && c > 0) {
				best, bk = it, k
			}
		}
		return best, nil
	}
}
