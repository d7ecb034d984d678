package bfcl

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/star-go/star/internal/pyjson"
)

// The Java and JavaScript converters turn the string a model wrote for a
// Java/JavaScript parameter into the Python value gorilla compares with the
// possible answer (type_convertor/java_type_converter.py, js_type_converter.py).
// They are regular-expression based and lenient in the same odd ways as the
// originals; a value they do not recognise stays a string.
//
// Python's "$" also matches before a final newline; the patterns below spell
// that as "\n?\z". Python's \d and \s also match non-ASCII digits and spaces;
// these patterns use ASCII only (docs/eval.md).

var (
	reInt       = regexp.MustCompile(`^-?\d+\n?\z`)
	reJavaFloat = regexp.MustCompile(`^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]\n?\z`)
	reDouble    = regexp.MustCompile(`^-?\d+(\.\d+)?([eE][+-]?\d+)?\n?\z`)
	reJavaLong  = regexp.MustCompile(`^-?\d+[lL]\n?\z`)
	reFSuffix   = regexp.MustCompile(`[fF](\n?)\z`)
	reLSuffix   = regexp.MustCompile(`[lL](\n?)\z`)
	reAsList    = regexp.MustCompile(`new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)`)
	reListAdd   = regexp.MustCompile(`(?s)new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}`)
	reAdd       = regexp.MustCompile(`add\((.+?)\)`)
	reListEmpty = regexp.MustCompile(`new\s+ArrayList<\w*>\(\)`)
	reArray     = regexp.MustCompile(`new\s+\w+\[\]\s*\{(.*?)\}`)
	reHashMap   = regexp.MustCompile(`(?s)new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}`)
	rePut       = regexp.MustCompile(`put\("(.*?)",\s*(.*?)\)`)
	reMapEmpty  = regexp.MustCompile(`new\s+HashMap<.*?>\s*\(\)`)

	reJSFloat   = regexp.MustCompile(`^-?\d+(\.\d+)?\n?\z`)
	reBigint    = regexp.MustCompile(`^-?\d+n\n?\z`)
	reArray2D   = regexp.MustCompile(`^(?:\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\))`)
	reInner     = regexp.MustCompile(`\[(.*?)\]`)
	reArray1D   = regexp.MustCompile(`^(?:\[(.*?)\]|\bnew\s+Array\((.*?)\))`)
	reDictOuter = regexp.MustCompile(`^\{(.*?)\}`)
)

// pyException is an exception the converters raise; upstream it would stop
// the whole evaluation, here it becomes the verdict's error.
type pyException struct{ msg string }

func (e *pyException) Error() string { return e.msg }

// javaConvert is java_type_converter(value, expectedType, nestedType).
func javaConvert(value, typ, nested string) (any, error) {
	switch typ {
	case "byte", "short", "integer":
		if !reInt.MatchString(value) {
			return value, nil
		}
		return pyInt(value)
	case "float":
		if !reJavaFloat.MatchString(value) {
			return value, nil
		}
		return pyFloat(reFSuffix.ReplaceAllString(value, "$1"))
	case "double":
		if !reDouble.MatchString(value) {
			return value, nil
		}
		return pyFloat(value)
	case "long":
		if !reJavaLong.MatchString(value) {
			return value, nil
		}
		return pyInt(reLSuffix.ReplaceAllString(value, "$1"))
	case "boolean":
		if value != "true" && value != "false" {
			return value, nil
		}
		return value == "true", nil
	case "char", "String", "any":
		return value, nil // the char pattern ^'.$' can never match
	case "Array":
		m := reArray.FindStringSubmatch(value)
		if m == nil {
			return value, nil
		}
		out := []any{}
		for _, x := range strings.Split(m[1], ",") {
			x = pyStrip(x)
			if x == "" {
				continue
			}
			var v any
			var err error
			if nested != "" {
				v, err = javaConvert(x, nested, "")
			} else {
				v, err = javaValue(x)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "ArrayList":
		return javaArrayList(value, nested)
	case "HashMap":
		m := reHashMap.FindStringSubmatch(value)
		if m == nil {
			if reMapEmpty.MatchString(value) {
				return &pyjson.Object{}, nil
			}
			return value, nil
		}
		out := &pyjson.Object{}
		if pyStrip(m[1]) != "" {
			for _, p := range rePut.FindAllStringSubmatch(m[1], -1) {
				v, err := javaValue(pyStrip(p[2]))
				if err != nil {
					return nil, err
				}
				out.Set(p[1], v)
			}
		}
		return out, nil
	case "Set", "Hashtable":
		return nil, &pyException{"Set conversion is not implemented"}
	case "Queue", "Stack":
		return nil, &pyException{typ + " conversion is not implemented"}
	}
	return nil, &pyException{"Unsupported type: " + typ}
}

func javaArrayList(value, nested string) (any, error) {
	elem := func(s string) (any, error) {
		switch {
		case nested == "char" || nested == "String":
			return pySlice1(s), nil
		case nested != "":
			return javaConvert(s, nested, "")
		}
		return javaValue(s)
	}
	var parts []string
	if m := reAsList.FindStringSubmatch(value); m != nil {
		parts = strings.Split(m[1], ",")
	} else if m := reListAdd.FindStringSubmatch(value); m != nil {
		for _, a := range reAdd.FindAllStringSubmatch(m[1], -1) {
			parts = append(parts, a[1])
		}
	} else if reListEmpty.MatchString(value) {
		return []any{}, nil
	} else {
		return value, nil
	}
	out := make([]any, 0, len(parts))
	for _, p := range parts {
		v, err := elem(pyStrip(p))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// javaValue is parse_java_value: a literal without a declared type.
func javaValue(s string) (any, error) {
	switch {
	case s == "true":
		return true, nil
	case s == "false":
		return false, nil
	case strings.HasPrefix(s, `"`) && strings.HasSuffix(s, `"`):
		return pySlice1(s), nil
	case reJavaLong.MatchString(s):
		return pyInt(pyDropLast(s))
	case reJavaFloat.MatchString(s):
		return pyFloat(reFSuffix.ReplaceAllString(s, "$1"))
	}
	if v, err := pyInt(s); err == nil {
		return v, nil
	}
	if v, err := pyFloat(s); err == nil {
		return v, nil
	}
	return s, nil
}

// jsConvert is js_type_converter(value, expectedType, nestedType).
func jsConvert(value, typ, nested string) (any, error) {
	switch typ {
	case "String":
		if !(strings.HasPrefix(value, `"`) && strings.HasSuffix(value, `"`)) &&
			!(strings.HasPrefix(value, "'") && strings.HasSuffix(value, "'")) {
			return value, nil
		}
		return pySlice1(value), nil
	case "integer":
		if !reInt.MatchString(value) {
			return value, nil
		}
		return pyInt(value)
	case "float":
		if !reJSFloat.MatchString(value) {
			return value, nil
		}
		return pyFloat(value)
	case "Bigint":
		if !reBigint.MatchString(value) {
			return value, nil
		}
		return pyInt(pyDropLast(value))
	case "Boolean":
		if value != "true" && value != "false" {
			return value, nil
		}
		return value == "true", nil
	case "dict", "array":
		return jsCollection(value, typ, nested)
	case "any":
		return value, nil
	}
	return nil, &pyException{"Unsupported type: " + typ}
}

// jsCollection is parse_js_collection. Any failure inside returns the code
// unchanged, as the original's bare except does.
func jsCollection(code, typ, nested string) (any, error) {
	code = pyStrip(code)
	if typ == "array" {
		if m := reArray2D.FindString(code); m != "" {
			var out []any
			for idx, inner := range reInner.FindAllStringSubmatch(m, -1) {
				s := pyStrip(inner[1])
				if idx == 0 && strings.HasPrefix(s, "[") {
					s = s[1:]
				}
				row := []any{}
				for _, e := range strings.Split(s, ",") {
					row = append(row, jsValue(pyStrip(e)))
				}
				out = append(out, row)
			}
			return out, nil
		}
		m := reArray1D.FindStringSubmatchIndex(code)
		if m == nil {
			return code, nil
		}
		var body string
		switch {
		case m[2] >= 0:
			body = pyStrip(code[m[2]:m[3]])
		case m[4] >= 0:
			body = pyStrip(code[m[4]:m[5]])
		}
		out := []any{}
		if body == "" {
			return out, nil
		}
		for _, e := range strings.Split(body, ",") {
			e = pyStrip(e)
			if nested == "" {
				out = append(out, jsValue(e))
				continue
			}
			v, err := jsConvert(e, nested, "")
			if err != nil {
				return code, nil
			}
			out = append(out, v)
		}
		return out, nil
	}
	if code == "{}" {
		return &pyjson.Object{}, nil
	}
	m := reDictOuter.FindStringSubmatch(code)
	if m == nil {
		return code, nil
	}
	out := &pyjson.Object{}
	for _, kv := range jsPairs(m[1]) {
		key := strings.Trim(pyStrip(kv[0]), `'"`)
		value := pyStrip(kv[1])
		var v any
		switch {
		case strings.HasPrefix(value, "[") && strings.HasSuffix(value, "]"):
			v, _ = jsCollection(value, "array", "")
		case strings.HasPrefix(value, "{") && strings.HasSuffix(value, "}"):
			v, _ = jsCollection(value, "dict", "")
		default:
			v = jsValue(strings.Trim(value, `'"`))
		}
		out.Set(key, v)
	}
	return out, nil
}

// jsPairs is re.findall(r"([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)", s), written
// out because Go's regexp has no lookahead. It follows the backtracking
// order of the original: the key runs to the next ':', the value is the
// shortest run (within one line) followed by a ',' whose remainder up to
// the next ',' holds a ':' after at least one character, or by the end.
func jsPairs(s string) [][2]string {
	var out [][2]string
	for p := 0; p < len(s); {
		c := strings.IndexByte(s[p:], ':')
		if c <= 0 { // no key here: findall retries one character on
			if c < 0 {
				break
			}
			p++
			continue
		}
		key := s[p : p+c]
		v := p + c + 1
		for v < len(s) && isPySpace(s[v]) {
			v++
		}
		end, next := -1, -1
		for e := v; ; e++ {
			if e == len(s) || (e == len(s)-1 && s[e] == '\n') {
				end, next = e, e
				break
			}
			if s[e] == ',' {
				if r, ok := lookaheadPair(s, e+1); ok {
					end, next = e, r
					break
				}
			}
			if s[e] == '\n' {
				break
			}
		}
		if end < 0 {
			p++
			continue
		}
		out = append(out, [2]string{key, s[v:end]})
		if next == p {
			next++
		}
		p = next
	}
	return out
}

// lookaheadPair matches ",\s*(?=[^,]+:)" after the comma at start-1: \s* is
// greedy and gives back characters until the lookahead holds. It returns
// where the match ends.
func lookaheadPair(s string, start int) (int, bool) {
	ws := start
	for ws < len(s) && isPySpace(s[ws]) {
		ws++
	}
	for r := ws; r >= start; r-- {
		// [^,]+ then ':' : a ':' at index > r before the next ','.
		for j := r + 1; j < len(s) && s[j-1] != ','; j++ {
			if s[j] == ',' {
				break
			}
			if s[j] == ':' {
				return r, true
			}
		}
	}
	return 0, false
}

// jsValue is parse_js_value.
func jsValue(s string) any {
	s = pyStrip(s)
	switch {
	case s == "true":
		return true
	case s == "false":
		return false
	case len(s) > 0 && (strings.HasPrefix(s, `"`) && strings.HasSuffix(s, `"`) || strings.HasPrefix(s, "'") && strings.HasSuffix(s, "'")):
		return pySlice1(s)
	}
	if v, err := pyInt(s); err == nil {
		return v
	}
	if v, err := pyFloat(s); err == nil {
		return v
	}
	return s
}

// isPySpace is str.isspace() for one ASCII byte (\s in a Python pattern).
func isPySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || (c >= 0x1c && c <= 0x1f)
}

// pyStrip is str.strip(): Python's whitespace, which also counts \x1c-\x1f.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return r < 0x80 && isPySpace(byte(r)) || r == 0x85 || r == 0xa0 || r == 0x1680 ||
			(r >= 0x2000 && r <= 0x200a) || r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000
	})
}

// pySlice1 is s[1:-1] on code points.
func pySlice1(s string) string {
	r := []rune(s)
	if len(r) < 2 {
		return ""
	}
	return string(r[1 : len(r)-1])
}

// pyDropLast is s[:-1] on code points.
func pyDropLast(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return ""
	}
	return string(r[:len(r)-1])
}

var (
	rePyInt   = regexp.MustCompile(`^[+-]?[0-9](?:_?[0-9])*\z`)
	rePyFloat = regexp.MustCompile(`^[+-]?(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?\z`)
	rePyInf   = regexp.MustCompile(`(?i)^[+-]?(?:inf|infinity|nan)\z`)
)

// pyInt is int(s) for a str (ASCII digits).
func pyInt(s string) (any, error) {
	t := pyStrip(s)
	if !rePyInt.MatchString(t) {
		return nil, &pyException{fmt.Sprintf("invalid literal for int() with base 10: %s", pyjson.QuoteString(s))}
	}
	t = strings.ReplaceAll(t, "_", "")
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		return n, nil
	}
	b, ok := new(big.Int).SetString(strings.TrimPrefix(t, "+"), 10)
	if !ok {
		return nil, &pyException{"invalid int " + s}
	}
	return b, nil
}

// pyFloat is float(s) for a str.
func pyFloat(s string) (any, error) {
	t := pyStrip(s)
	if rePyInf.MatchString(t) {
		neg := strings.HasPrefix(t, "-")
		if strings.Contains(strings.ToLower(t), "nan") {
			return math.NaN(), nil
		}
		if neg {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	if !rePyFloat.MatchString(t) {
		return nil, &pyException{fmt.Sprintf("could not convert string to float: %s", pyjson.QuoteString(s))}
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
	if err != nil && !isRange(err) {
		return nil, &pyException{err.Error()}
	}
	return f, nil
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
