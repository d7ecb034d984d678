package acebench

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/star-go/star/internal/pyjson"
)

// This is model_eval/checker.py's normal_checker with its leniencies:
// strings pass when the normalised answer is a substring of the output,
// numbers and booleans are only type-checked, nested values are compared as
// substrings of their str(), enum values are never checked (their type maps
// to Python's enumerate, which no value has), and several nested checks are
// vacuous. Each rule below mirrors one branch of the original.

// result is a checker verdict {valid, error, error_type}; error is kept as
// the original has it (a list, or sometimes a bare string).
type result struct {
	Valid     bool
	Error     any
	ErrorType string
	variable  bool
}

func okResult() result { return result{Valid: true, Error: []any{}} }

func failResult(errorType string, msg any) result {
	return result{Error: msg, ErrorType: errorType}
}

// pythonTypes is PYTHON_TYPE_MAPPING as Python type names.
var pythonTypes = map[string]string{
	"string": "str", "integer": "int", "float": "float", "boolean": "bool", "array": "list", "tuple": "list",
	"dict": "dict", "any": "str", "list": "list", "object": "dict", "objectArray": "list", "list(string)": "list",
	"list(enum)": "list", "int": "int", "enum": "enumerate", "number": "int",
}

var nestedCheck = map[string]bool{"array": true, "tuple": true, "list(string)": true, "list(enum)": true, "object": true, "objectArray": true}

// exception is a Python exception the original checker would raise, which
// stops ACEBench's evaluation; here it becomes the verdict's error.
type exception struct{ msg string }

func (e *exception) Error() string { return e.msg }

func raise(format string, args ...any) { panic(&exception{fmt.Sprintf(format, args...)}) }

// typeName is Python's type(v).__name__ for decoded values.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case float64:
		return "float"
	case []any:
		return "list"
	case Tuple:
		return "tuple"
	case Bytes:
		return "bytes"
	case Complex:
		return "complex"
	case *pyjson.Object:
		return "dict"
	}
	if pyjson.IsNumber(v) {
		return "int"
	}
	return "object"
}

// pyRepr is repr() of a decoded value, tuples included.
func pyRepr(v any) string {
	switch x := v.(type) {
	case Tuple:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		if len(parts) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *pyjson.Object:
		parts := make([]string, len(x.Members))
		for i, m := range x.Members {
			parts[i] = keyRepr(m.Key) + ": " + pyRepr(m.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case Bytes:
		q := pyjson.QuoteString(string(x))
		return "b" + q
	case Complex:
		if real(x) == 0 && !math.Signbit(real(x)) {
			return string(pyjson.AppendFloat(nil, imag(x))) + "j"
		}
		return "(" + string(pyjson.AppendFloat(nil, real(x))) + fmt.Sprintf("%+g", imag(x)) + "j)"
	}
	return pyjson.Repr(v)
}

func keyRepr(k string) string {
	if strings.HasPrefix(k, "\x00") {
		return k[1:]
	}
	return pyjson.QuoteString(k)
}

// keyStr is str() of an argument name or dict key.
func keyStr(k string) string {
	return strings.TrimPrefix(k, "\x00")
}

// pyStr is str().
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

// pyEqual is ==, tuples included (a tuple never equals a list).
func pyEqual(a, b any) bool {
	switch x := a.(type) {
	case Tuple:
		y, ok := b.(Tuple)
		return ok && seqEqual(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && seqEqual(x, y)
	case *pyjson.Object:
		y, ok := b.(*pyjson.Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, m := range x.Members {
			v, has := y.Get(m.Key)
			if !has || !pyEqual(m.Value, v) {
				return false
			}
		}
		return true
	case Bytes:
		y, ok := b.(Bytes)
		return ok && x == y
	case Complex:
		if y, ok := b.(Complex); ok {
			return x == y
		}
		f, ok := pyjson.Float(b)
		return ok && imag(x) == 0 && real(x) == f
	}
	switch b.(type) {
	case Tuple, []any, *pyjson.Object, Bytes:
		return false
	case Complex:
		return pyEqual(b, a)
	}
	return pyjson.Equal(a, b)
}

func seqEqual(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !pyEqual(x[i], y[i]) {
			return false
		}
	}
	return true
}

// pyIter is iteration over a value (list items, dict keys, string
// characters); other types raise TypeError.
func pyIter(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case Tuple:
		return x
	case *pyjson.Object:
		keys := make([]any, x.Len())
		for i, m := range x.Members {
			keys[i] = m.Key
		}
		return keys
	case string:
		var out []any
		for _, r := range x {
			out = append(out, string(r))
		}
		return out
	}
	raise("TypeError: '%s' object is not iterable", pyTypeName(v))
	return nil
}

// pyIn is `x in container` for a list, dict (keys) or string (substring).
func pyIn(x, container any) bool {
	switch c := container.(type) {
	case string:
		s, ok := x.(string)
		if !ok {
			raise("TypeError: 'in <string>' requires string as left operand, not %s", pyTypeName(x))
		}
		return strings.Contains(c, s)
	case *pyjson.Object:
		s, ok := x.(string)
		return ok && c.Has(s)
	}
	for _, e := range pyIter(container) {
		if pyEqual(e, x) {
			return true
		}
	}
	return false
}

func standardize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ' ', ',', '.', '/', '-', '_', '*', '^':
			continue
		}
		b.WriteRune(r)
	}
	return strings.ReplaceAll(strings.ToLower(b.String()), "'", `"`)
}

func get(o *pyjson.Object, key string) any {
	v, ok := o.Get(key)
	if !ok {
		raise("KeyError: %s", pyjson.QuoteString(key))
	}
	return v
}

func asObject(v any) *pyjson.Object {
	o, ok := v.(*pyjson.Object)
	if !ok {
		raise("TypeError: '%s' object is not subscriptable", pyTypeName(v))
	}
	return o
}

// boolText is the checker's local "true"/"false" → bool conversion.
func boolText(v any) any {
	if s, ok := v.(string); ok {
		switch s {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return v
}

func typeCheck(param string, value, answer any, desc, want, nested, fn string) result {
	r := result{Valid: true, Error: []any{}, ErrorType: "type_error"}
	answerType := ""
	if !pyEqual(answer, "") {
		answerType = pyTypeName(answer)
	}
	variable := answerType != "" && answerType != want
	value = boolText(value)
	if pyTypeName(value) == want {
		if nested == "" {
			r.variable = variable
			return r
		}
		for _, item := range pyIter(answer) {
			flag := true
			if _, isList := item.([]any); isList {
				for _, v := range pyIter(value) {
					if !typeCheck(param, v, item, "<class '"+nested+"'>", nested, "", fn).Valid {
						flag = false
						break
					}
				}
			}
			if flag {
				return result{Valid: true, Error: []any{}, variable: variable}
			}
		}
		r.Valid = false
		r.Error = []any{fmt.Sprintf("Nested type checking failed for parameter %s. Expected outer type %s with inner type <class '%s'>. Parameter value: %s.",
			pyjson.QuoteString(param), desc, nested, pyRepr(value))}
	}
	if answerType != "" && (pyTypeName(value) == answerType || pyEqual(answer, value)) {
		r.variable = true
		return r
	}
	return result{Error: []any{fmt.Sprintf("wrong type for parameter (%s) of api (%s):[excepted: <class '%s'>, real: <class '%s'>]",
		param, fn, want, pyTypeName(value))}, ErrorType: "type_error"}
}

func stringCheck(param, value string, answer any, fn string) result {
	s, ok := answer.(string)
	if !ok {
		raise("TypeError: expected string or bytes-like object")
	}
	if !strings.Contains(standardize(value), standardize(s)) {
		return failResult("value_error:string", []any{fmt.Sprintf("wrong value for parameter (%s) of api (%s): [excepted: %s, real: [%s]]", param, fn, s, value)})
	}
	return okResult()
}

func listCheck(param string, value []any, answer any, fn string) result {
	std := func(xs []any) []any {
		out := make([]any, len(xs))
		for i, x := range xs {
			if s, ok := x.(string); ok {
				out[i] = standardize(s)
			} else {
				out[i] = x
			}
		}
		return out
	}
	if !pyEqual(std(value), std(pyIter(answer))) {
		return failResult("value_error:list/tuple", []any{fmt.Sprintf("wrong value for parameter (%s) of api (%s): [expected %s, real: [%s]]",
			pyjson.QuoteString(param), fn, pyStr(answer), pyRepr(value))})
	}
	return okResult()
}

func dictCheck(param string, value, answer any, fn string) result {
	r := result{Valid: true, Error: []any{}, ErrorType: "dict_checker:unclear"}
	msg := func() []any {
		return []any{fmt.Sprintf("wrong value for parameter (%s) of api (%s): [excepted: %s, real: [%s]]", param, fn, pyStr(answer), pyStr(value))}
	}
	v, isDict := value.(*pyjson.Object)
	if !isDict {
		return result{Error: []any{fmt.Sprintf("wrong type for parameter (%s) of api (%s): [excepted: %s, real: [%s]]", param, fn, pyStr(answer), pyStr(value))}, ErrorType: "value_error"}
	}
	want := asObject(answer)
	if v.Len() != want.Len() {
		return result{Error: msg(), ErrorType: "value_error"}
	}
	for _, m := range v.Members {
		val := boolText(m.Value)
		expected, has := want.Get(m.Key)
		if !has {
			return result{Error: msg(), ErrorType: "value_error"}
		}
		if _, isDict := expected.(*pyjson.Object); isDict {
			r = dictCheck(param, val, expected, fn)
			if !r.Valid {
				return r
			}
			continue
		}
		stdVal := val
		if s, ok := val.(string); ok {
			stdVal = standardize(s)
		}
		stdWant := expected
		if s, ok := expected.(string); ok {
			stdWant = standardize(s)
		}
		if !strings.Contains(pyStr(stdVal), pyStr(stdWant)) {
			return result{Error: msg(), ErrorType: "value_error"}
		}
	}
	return r
}

func listDictCheck(param string, value []any, answer any, fn string) result {
	answers := pyIter(answer)
	if len(value) != len(answers) {
		return result{Error: []any{fmt.Sprintf("wrong value for parameter (%s) of api (%s): [excepted: %s, real: [%s]]", param, fn, pyStr(answer), pyRepr(value))},
			ErrorType: "value_error:list_dict_count"}
	}
	r := result{Valid: true, Error: []any{}, ErrorType: "list_dict_checker:unclear"}
	for i := range value {
		r = dictCheck(param, value[i], answers[i], fn)
		if !r.Valid {
			return r
		}
	}
	return r
}

// simpleCheck is simple_function_checker.
func simpleCheck(doc *pyjson.Object, call Call, answer *pyjson.Object, category string) result {
	possibleV := answer.Members[0].Value
	params := get(doc, "parameters")
	if call.Args.Len() == 0 && pyEqual(params, &pyjson.Object{}) {
		return result{Valid: true, Error: []any{}}
	}
	if call.Args.Len() == 0 || pyEqual(params, &pyjson.Object{}) {
		return result{Error: []any{}, ErrorType: "wrong_param"}
	}
	po := asObject(params)
	if pyEqual(possibleV, get(po, "properties")) {
		return result{Valid: true, Error: []any{}}
	}
	if pyEqual(possibleV, &pyjson.Object{}) {
		return result{Error: []any{}, ErrorType: "wrong_param"}
	}
	fn := pyStr(get(doc, "name"))
	if call.Name != fn {
		return failResult("wrong_function_name", []any{pyjson.NewObject("wrong_function", pyjson.NewObject("expected", fn, "real", call.Name))})
	}
	possible := asObject(possibleV)
	details := asObject(get(po, "properties"))
	for _, p := range pyIter(get(po, "required")) {
		if !pyIn(p, call.Args) {
			return failResult("lack_args", "lack required_params: "+pyStr(p))
		}
	}
	r := result{Valid: true, Error: []any{}}
	for _, m := range call.Args.Members {
		param, value := m.Key, m.Value
		d, inDoc := details.Get(param)
		want, inAnswer := possible.Get(param)
		if !inDoc || !inAnswer {
			return failResult("addition_args", "addition params: "+keyStr(param))
		}
		detail := asObject(d)
		desc := pyStr(get(detail, "type"))
		conv, known := pythonTypes[desc]
		if !known {
			raise("KeyError: %s", pyjson.QuoteString(desc))
		}
		nested := ""
		if nestedCheck[desc] {
			nestedType := ""
			if items, ok := detail.Get("items"); ok {
				if io, ok := items.(*pyjson.Object); ok {
					if t, ok := io.Get("type"); ok {
						nestedType = pyStr(t)
					}
				}
			}
			if nestedType == "" {
				switch {
				case strings.Contains(desc, "string"):
					nestedType = "string"
				case strings.Contains(desc, "enum"):
					nestedType = "enum"
				default:
					nestedType = "dict"
				}
			}
			n, known := pythonTypes[nestedType]
			if !known {
				raise("KeyError: %s", pyjson.QuoteString(nestedType))
			}
			nested = n
		}
		if t, isTuple := value.(Tuple); isTuple && desc == "tuple" {
			value = []any(t)
		}
		if desc == "float" && pyTypeName(value) == "int" {
			value, _ = pyjson.Float(value)
		}
		tr := typeCheck(param, value, want, desc, conv, nested, fn)
		if !tr.Valid {
			return result{Error: tr.Error, ErrorType: tr.ErrorType}
		}
		if tr.variable {
			continue
		}
		switch {
		case conv == "dict":
			r = dictCheck(param, value, want, fn)
		case conv == "list" && nested == "dict":
			if desc == "objectArray" {
				if len(pyIter(value)) != len(pyIter(want)) {
					return failResult("value_error:dict_items", []any{"Wrong number of parameters for dictionary."})
				}
				if len(pyIter(value)) > 0 {
					raise("TypeError: dict_checker() missing 1 required positional argument: 'func_name'")
				}
			}
			r = listDictCheck(param, pyIter(value), want, fn)
		case conv == "str":
			r = stringCheck(param, value.(string), want, fn)
		case conv == "list":
			r = listCheck(param, pyIter(value), want, fn)
		default:
			continue
		}
		if !r.Valid {
			return result{Error: r.Error, ErrorType: r.ErrorType}
		}
	}
	return r
}

var numberSuffix = regexp.MustCompile(`_\d+\z`)

// normalCheck is normal_checker: the calls must match the answer's
// functions (suffixes _1, _2 … on answer keys are dropped), each answer call
// must be matched by an output call of the same name.
func normalCheck(docs any, output []Call, answers *pyjson.Object, category string) result {
	if len(output) != answers.Len() {
		return failResult("wrong functions number", []any{"The number of functions does not match the answer."})
	}
	type named struct {
		orig, name string
		params     any
	}
	list := make([]named, answers.Len())
	answerCount := map[string]int{}
	var answerOrder []string
	for i, m := range answers.Members {
		n := numberSuffix.ReplaceAllString(m.Key, "")
		list[i] = named{m.Key, n, m.Value}
		if answerCount[n] == 0 {
			answerOrder = append(answerOrder, n)
		}
		answerCount[n]++
	}
	outCount := map[string]int{}
	var outOrder []string
	for _, c := range output {
		if outCount[c.Name] == 0 {
			outOrder = append(outOrder, c.Name)
		}
		outCount[c.Name]++
	}
	for _, n := range outOrder {
		if answerCount[n] == 0 {
			return failResult("function_mismatch", []any{fmt.Sprintf("extra function detected: %s is not in the ground truth", n)})
		}
	}
	for _, n := range answerOrder {
		if outCount[n] == 0 {
			return failResult("function_mismatch", []any{fmt.Sprintf("extra function detected: %s is not in the ground truth", n)})
		}
	}
	for _, n := range outOrder {
		if outCount[n] != answerCount[n] {
			return failResult("function_mismatch", []any{fmt.Sprintf("incorrect count for function %s: [expected: %d, actual: %d]", n, answerCount[n], outCount[n])})
		}
	}
	r := result{Valid: true, Error: []any{}}
	for _, a := range list {
		doc := findDescription(docs, a.orig)
		found := false
		for _, c := range output {
			if c.Name == a.name {
				if doc == nil {
					raise("TypeError: 'NoneType' object is not subscriptable")
				}
				r = simpleCheck(doc, c, pyjson.NewObject(a.name, a.params), category)
				if r.Valid {
					found = true
					break
				}
			} else {
				r = failResult("simple_function_checker:unclear", []any{"wrong_function"})
			}
		}
		if found {
			continue
		}
		if !r.Valid {
			if len(list) > 1 {
				parts := make([]string, len(list))
				for i, x := range list {
					parts[i] = pyRepr(pyjson.NewObject(x.name, x.params))
				}
				outs := make([]string, len(output))
				for i, c := range output {
					outs[i] = pyRepr(pyjson.NewObject(c.Name, c.Args))
				}
				r.Error = []any{fmt.Sprintf("Parallel function call failed; excepted [%s], real: [%s]", strings.Join(parts, ", "), strings.Join(outs, ", "))}
			}
			return r
		}
	}
	return r
}

// findDescription is find_description: the first doc whose name is a
// substring of the answer's function name.
func findDescription(docs any, name string) *pyjson.Object {
	list, isList := docs.([]any)
	if !isList {
		return asObject(docs)
	}
	for _, d := range list {
		o := asObject(d)
		if strings.Contains(name, pyStr(get(o, "name"))) {
			return o
		}
	}
	return nil
}
