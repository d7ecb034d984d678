package bfcl

import (
	"fmt"
	"strings"

	"github.com/star-go/star/internal/pyjson"
)

// result is a checker's verdict: gorilla's {"valid", "error", "error_type"}.
// Error holds strings, and for the parallel checker also objects.
type result struct {
	Valid     bool
	Error     []any
	ErrorType string
	variable  bool
}

func fail(errorType string, msgs ...any) result {
	return result{Error: msgs, ErrorType: errorType}
}

func ok() result { return result{Valid: true, Error: []any{}} }

// Python type names of the type tables (PYTHON_TYPE_MAPPING,
// JAVA_TYPE_CONVERSION, JS_TYPE_CONVERSION).
var (
	pythonTypes = map[string]string{"string": "str", "integer": "int", "float": "float", "boolean": "bool",
		"array": "list", "tuple": "list", "dict": "dict", "any": "str"}
	javaTypes = map[string]string{"byte": "int", "short": "int", "integer": "int", "float": "float", "double": "float",
		"long": "int", "boolean": "bool", "char": "str", "Array": "list", "ArrayList": "list", "Set": "set",
		"HashMap": "dict", "Hashtable": "dict", "Queue": "list", "Stack": "list", "String": "str", "any": "str"}
	jsTypes = map[string]string{"String": "str", "integer": "int", "float": "float", "Bigint": "int",
		"Boolean": "bool", "dict": "dict", "array": "list", "any": "str"}
)

// check is ast_checker for one decoded answer. It returns an error where the
// original raises (a function doc it cannot read, a type it has no table
// entry for), which would stop gorilla's run.
func check(docs []any, output []Call, answer []any, lang, category string) (r result, err error) {
	defer func() {
		// Malformed docs or answers surface as Python exceptions upstream.
		if p := recover(); p != nil {
			if e, isErr := p.(error); isErr {
				err = e
				return
			}
			err = fmt.Errorf("%v", p)
		}
	}()
	switch {
	case strings.Contains(category, "parallel"):
		return parallelNoOrder(docs, output, answer, lang), nil
	case strings.Contains(category, "multiple"):
		if len(output) != len(answer) {
			return fail("multiple_function_checker:wrong_count", "Wrong number of functions."), nil
		}
		want := answerObject(answer[0])
		return simpleCheck(findDoc(docs, want.Members[0].Key), output[0], want, lang), nil
	}
	if len(output) != 1 {
		return fail("simple_function_checker:wrong_count", "Wrong number of functions."), nil
	}
	return simpleCheck(obj(docs[0]), output[0], answerObject(answer[0]), lang), nil
}

// checkPanic carries a Python-style exception out of the checker.
type checkPanic struct{ msg string }

func (e *checkPanic) Error() string { return e.msg }

func raise(format string, args ...any) { panic(&checkPanic{fmt.Sprintf(format, args...)}) }

func obj(v any) *pyjson.Object {
	o, ok := v.(*pyjson.Object)
	if !ok {
		raise("want an object, got %s", pyType(v))
	}
	return o
}

func answerObject(v any) *pyjson.Object {
	o := obj(v)
	if o.Len() == 0 {
		raise("empty ground-truth call")
	}
	return o
}

func field(o *pyjson.Object, key string) any {
	v, ok := o.Get(key)
	if !ok {
		raise("KeyError: %s", pyjson.QuoteString(key))
	}
	return v
}

func findDoc(docs []any, name string) *pyjson.Object {
	for _, d := range docs {
		o := obj(d)
		if n, _ := o.Get("name"); n == name {
			return o
		}
	}
	raise("no function doc named %q", name)
	return nil
}

func parallelNoOrder(docs []any, output []Call, answers []any, lang string) result {
	if len(output) != len(answers) {
		return fail("parallel_function_checker_no_order:wrong_count", "Wrong number of functions.")
	}
	matched := make([]bool, len(output))
	r := ok()
	for i, a := range answers {
		want := answerObject(a)
		doc := findDoc(docs, want.Members[0].Key)
		var all []any
		for idx := range output {
			if matched[idx] {
				continue
			}
			r = simpleCheck(doc, output[idx], want, lang)
			if r.Valid {
				matched[idx] = true
				break
			}
			all = append(all, pyjson.NewObject(fmt.Sprintf("Model Result Index %d", idx), pyjson.NewObject(
				"sub_error", r.Error,
				"sub_error_type", r.ErrorType,
				"model_output_item", output[idx].pyObject(),
				"possible_answer_item", want,
			)))
		}
		if !r.Valid {
			var considered []any
			for idx := range output {
				if !matched[idx] {
					considered = append(considered, int64(idx))
				}
			}
			msg := fmt.Sprintf("Could not find a matching function among index %s of model output for index %d of possible answers.",
				pyjson.Repr(considered), i)
			return result{Error: append([]any{msg}, all...), ErrorType: "parallel_function_checker_no_order:cannot_find_match"}
		}
	}
	return ok()
}

// simpleCheck is simple_function_checker.
func simpleCheck(doc *pyjson.Object, call Call, answer *pyjson.Object, lang string) result {
	possible := obj(answer.Members[0].Value)
	name := pyjson.Str(field(doc, "name"))
	params := obj(field(doc, "parameters"))
	details := obj(field(params, "properties"))
	required, _ := field(params, "required").([]any)

	if s, isStr := call.Name.(string); !isStr || s != name {
		return fail("simple_function_checker:wrong_func_name",
			fmt.Sprintf("Function name %s not found in model output.", pyjson.QuoteString(name)))
	}
	args := call.Args
	for _, p := range required {
		if !args.Has(pyjson.Str(p)) {
			return fail("simple_function_checker:missing_required",
				fmt.Sprintf("Missing required parameter: %s.", pyjson.Repr(p)))
		}
	}
	last := ok()
	for _, m := range args.Members {
		param, value := m.Key, m.Value
		d, inDoc := details.Get(param)
		allowedV, inAnswer := possible.Get(param)
		if !inDoc || !inAnswer {
			return fail("simple_function_checker:unexpected_param",
				fmt.Sprintf("Unexpected parameter: %s.", pyjson.QuoteString(param)))
		}
		allowed, _ := allowedV.([]any)
		detail := obj(d)
		typ := pyjson.Str(field(detail, "type"))
		var want, nested string
		switch lang {
		case "Java", "JavaScript":
			table, errType, convert := javaTypes, "type_error:java", javaConvert
			if lang == "JavaScript" {
				table, errType, convert = jsTypes, "type_error:js", jsConvert
			}
			w, known := table[typ]
			if !known {
				raise("KeyError: %s", pyjson.QuoteString(typ))
			}
			want = w
			s, isStr := value.(string)
			if !isStr {
				return fail(errType, fmt.Sprintf("Incorrect type for parameter %s. Expected type String, got %s. Parameter value: %s.",
					pyjson.QuoteString(param), pyType(value), pyjson.Repr(value)))
			}
			nestedType := ""
			if typ == "Array" || typ == "ArrayList" || typ == "array" {
				nestedType = pyjson.Str(field(obj(field(detail, "items")), "type"))
				n, known := table[nestedType]
				if !known {
					raise("KeyError: %s", pyjson.QuoteString(nestedType))
				}
				nested = n
			}
			v, err := convert(s, typ, nestedType)
			if err != nil {
				panic(err)
			}
			value = v
		default:
			w, known := pythonTypes[typ]
			if !known {
				raise("KeyError: %s", pyjson.QuoteString(typ))
			}
			want = w
			if typ == "array" || typ == "tuple" {
				it := pyjson.Str(field(obj(field(detail, "items")), "type"))
				n, known := pythonTypes[it]
				if !known {
					raise("KeyError: %s", pyjson.QuoteString(it))
				}
				nested = n
			}
			if typ == "float" {
				if _, isF := value.(float64); !isF && pyType(value) == "int" {
					value, _ = pyjson.Float(value)
				}
			}
		}

		tr := typeCheck(param, value, allowed, typ, want, nested)
		if !tr.Valid {
			return tr
		}
		if !tr.variable {
			var r result
			switch {
			case want == "dict":
				r = dictCheck(value.(*pyjson.Object), allowed)
			case want == "list" && nested == "dict":
				r = listDictCheck(value.([]any), allowed)
			case want == "str":
				r = stringCheck(param, value.(string), allowed)
			case want == "list":
				r = listCheck(param, value.([]any), allowed)
			default:
				if !contains(allowed, value) {
					return fail("value_error:others", fmt.Sprintf("Invalid value for parameter %s: %s. Expected one of %s.",
						pyjson.QuoteString(param), pyjson.Repr(value), pyjson.Repr(allowedV)))
				}
				continue
			}
			if !r.Valid {
				return r
			}
			last = r
			continue
		}
		if !contains(allowed, value) {
			return fail("value_error:others", fmt.Sprintf("Invalid value for parameter %s: %s. Expected one of %s.",
				pyjson.QuoteString(param), pyjson.Repr(value), pyjson.Repr(allowedV)))
		}
	}
	for _, m := range possible.Members {
		if !args.Has(m.Key) && !optional(m.Value) {
			return result{Error: append(last.Error, fmt.Sprintf("Optional parameter %s not provided and not marked as optional.",
				pyjson.QuoteString(m.Key))), ErrorType: "simple_function_checker:missing_optional"}
		}
	}
	return ok()
}

// optional is `"" in allowed`: a list holding "", or any string (Python's
// substring test finds "" in every string).
func optional(allowed any) bool {
	switch x := allowed.(type) {
	case []any:
		return contains(x, "")
	case string:
		return true
	}
	return false
}

// contains is Python's "x in list" (== across bool, int and float).
func contains(list []any, x any) bool {
	for _, v := range list {
		if pyjson.Equal(v, x) {
			return true
		}
	}
	return false
}

// answerType is get_possible_answer_type: the type of the first allowed
// value that is not "" (the optional marker), "" when there is none.
func answerType(allowed []any) string {
	for _, a := range allowed {
		if s, isStr := a.(string); isStr && s == "" {
			continue
		}
		return pyType(a)
	}
	return ""
}

// typeCheck is type_checker: one level of nested checking, and the
// "variable" rule (a value of the answer's own type, when that differs from
// the doc's type, is compared as is).
func typeCheck(param string, value any, allowed []any, desc, want, nested string) result {
	r := result{Valid: true, Error: []any{}, ErrorType: "type_error:simple"}
	at := answerType(allowed)
	variable := at != "" && at != want
	if pyType(value) == want {
		if nested == "" {
			r.variable = variable
			return r
		}
		for _, item := range allowed {
			flag := true
			if inner, isList := item.([]any); isList {
				for _, v := range value.([]any) {
					if !typeCheck(param, v, inner, "<class '"+nested+"'>", nested, "").Valid {
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
			pyjson.QuoteString(param), desc, nested, pyjson.Repr(value))}
		r.ErrorType = "type_error:nested"
	}
	if at != "" && pyType(value) == at {
		r.variable = true
		return r
	}
	r.Valid = false
	r.Error = append(r.Error, fmt.Sprintf("Incorrect type for parameter %s. Expected type %s, got %s. Parameter value: %s.",
		pyjson.QuoteString(param), desc, pyType(value), pyjson.Repr(value)))
	r.ErrorType = "type_error:simple"
	return r
}

// standardize is standardize_string: drop " ,./-_*^", lowercase, ' → ".
func standardize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ' ', ',', '.', '/', '-', '_', '*', '^':
			continue
		}
		b.WriteRune(r)
	}
	return strings.ReplaceAll(pyLower(b.String()), "'", `"`)
}

// pyLower is str.lower(); Go's ToLower agrees except for a few special
// cases (İ lowers to i̇ in Python), handled here.
func pyLower(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.ReplaceAll(s, "İ", "i\u0307")), "İ", "i\u0307")
}

func stringCheck(param, value string, allowed []any) result {
	v := standardize(value)
	for _, a := range allowed {
		if s, isStr := a.(string); isStr && standardize(s) == v {
			return ok()
		}
	}
	return fail("value_error:string", fmt.Sprintf("Invalid value for parameter %s: %s. Expected one of %s. Case insensitive.",
		pyjson.QuoteString(param), pyjson.QuoteString(value), pyjson.Repr(allowed)))
}

// standardizeList standardizes the strings of a list, or of a string taken
// as its characters (an optional "" answer is then the empty list).
func standardizeList(v any) []any {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case string:
		for _, r := range x {
			items = append(items, string(r))
		}
	default:
		raise("TypeError: object of type '%s' has no len()", pyType(v))
	}
	out := make([]any, len(items))
	for i, e := range items {
		if s, isStr := e.(string); isStr {
			out[i] = standardize(s)
		} else {
			out[i] = e
		}
	}
	return out
}

func listCheck(param string, value []any, allowed []any) result {
	v := standardizeList(value)
	for _, a := range allowed {
		if pyjson.Equal(v, standardizeList(a)) {
			return ok()
		}
	}
	return fail("value_error:list/tuple", fmt.Sprintf("Invalid value for parameter %s: %s. Expected one of %s.",
		pyjson.QuoteString(param), pyjson.Repr(value), pyjson.Repr(allowed)))
}

func standardizeValue(v any) any {
	if s, isStr := v.(string); isStr {
		return standardize(s)
	}
	return v
}

func dictCheck(value *pyjson.Object, allowed []any) result {
	r := result{Error: []any{}, ErrorType: "dict_checker:unclear"}
	for _, a := range allowed {
		if s, isStr := a.(string); isStr && s == "" {
			continue
		}
		r = result{Error: []any{}, ErrorType: "dict_checker:unclear"}
		want := obj(a)
		flag := true
		for _, m := range value.Members {
			wv, has := want.Get(m.Key)
			if !has {
				r.Error = append(r.Error, fmt.Sprintf("Unexpected dict key parameter: '%s'.", m.Key))
				r.ErrorType = "value_error:dict_key"
				flag = false
				break
			}
			list, _ := wv.([]any)
			std := make([]any, len(list))
			for i, x := range list {
				std[i] = standardizeValue(x)
			}
			if !contains(std, standardizeValue(m.Value)) {
				r.Error = append(r.Error, fmt.Sprintf("Invalid value for parameter %s: %s. Expected one of %s.",
					pyjson.QuoteString(m.Key), pyjson.Repr(m.Value), pyjson.Repr(std)))
				r.ErrorType = "value_error:dict_value"
				flag = false
				break
			}
		}
		for _, m := range want.Members {
			if !value.Has(m.Key) && !optional(m.Value) {
				r.Error = append(r.Error, fmt.Sprintf("Missing dict key parameter: '%s'.", m.Key))
				r.ErrorType = "value_error:dict_key"
				flag = false
				break
			}
		}
		if flag {
			return ok()
		}
	}
	return r
}

func listDictCheck(value []any, allowed []any) result {
	r := result{Error: []any{}, ErrorType: "list_dict_checker:unclear"}
	for _, a := range allowed {
		var dicts []any
		switch x := a.(type) {
		case []any:
			dicts = x
		case string:
			if x != "" { // a non-empty string answer: only its length is ever used
				dicts = make([]any, len([]rune(x)))
			}
		}
		if len(value) != len(dicts) {
			r = fail("value_error:list_dict_count", "Wrong number of dictionaries in the list.")
			continue
		}
		flag := true
		for i := range value {
			d, isDict := value[i].(*pyjson.Object)
			if !isDict {
				raise("AttributeError: '%s' object has no attribute 'items'", pyType(value[i]))
			}
			r = dictCheck(d, []any{dicts[i]})
			if !r.Valid {
				flag = false
				break
			}
		}
		if flag {
			return ok()
		}
	}
	return r
}
