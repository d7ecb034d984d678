package bfcl

import (
	"regexp"

	"github.com/star-go/star/internal/pyjson"
)

// Call is one decoded function call, {name: {param: value}} in gorilla's
// terms. Name is normally a string, but decode_ast keys the dict with
// whatever JSON scalar the model wrote, so it stays a decoded value.
type Call struct {
	Name any
	Args *pyjson.Object
}

// toolCallRE is QwenFCHandler._extract_tool_calls' pattern: the newlines
// around the body are required, so "<tool_call>{...}</tool_call>" is no call.
var toolCallRE = regexp.MustCompile(`(?s)<tool_call>\n(.*?)\n</tool_call>`)

// DecodeError is an exception decode_ast raises; Msg is Python's str(e).
type DecodeError struct{ Msg string }

func (e *DecodeError) Error() string { return e.Msg }

// DecodeAST is QwenFCHandler.decode_ast. Every body that is not JSON is kept
// as a string, and any non-object element turns the whole answer into an
// empty list (not an error): one broken block voids the answer. A call
// without "name" or "arguments", or whose arguments are not an object, is
// an error, as the Python KeyError/AttributeError is.
func DecodeAST(result string) ([]Call, error) {
	matches := toolCallRE.FindAllStringSubmatch(result, -1)
	objs := make([]*pyjson.Object, 0, len(matches))
	for _, m := range matches {
		v, err := pyjson.UnmarshalString(m[1])
		o, ok := v.(*pyjson.Object)
		if err != nil || !ok {
			return []Call{}, nil
		}
		objs = append(objs, o)
	}
	calls := make([]Call, 0, len(objs))
	for _, o := range objs {
		name, ok := o.Get("name")
		if !ok {
			return nil, &DecodeError{"'name'"}
		}
		args, ok := o.Get("arguments")
		if !ok {
			return nil, &DecodeError{"'arguments'"}
		}
		ao, ok := args.(*pyjson.Object)
		if !ok {
			return nil, &DecodeError{"'" + pyType(args) + "' object has no attribute 'items'"}
		}
		switch name.(type) {
		case []any, *pyjson.Object:
			return nil, &DecodeError{"unhashable type: '" + pyType(name) + "'"}
		}
		calls = append(calls, Call{Name: name, Args: ao})
	}
	return calls, nil
}

// pyType is Python's type(v).__name__ for a decoded value.
func pyType(v any) string {
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
	case *pyjson.Object:
		return "dict"
	}
	if pyjson.IsNumber(v) {
		return "int"
	}
	return "object"
}

// pyObject is the call as the Python dict {name: args}, for error reports.
func (c Call) pyObject() any {
	return pyjson.NewObject(pyjson.Str(c.Name), c.Args)
}
