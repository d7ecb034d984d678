// Package convert turns the raw records of the datasets STAR trains on (XLAM,
// ToolACE, ToolMind, Hammer, OpenAI-style chats) into the messages format of
// STAR-SPEC §1, exactly as STAR's format_data.py does (§2), quirks included:
// the converted prompt is rendered into the model's input text, so any change
// of key order, id or message shape would change the training data. Each
// converter builds *pyjson.Object values in the key order the original emits,
// and the output is compared byte for byte with the original's output in tests.
//
// A record that cannot be converted is an error for that record (a
// *jsonl.FieldError naming the field), never a silent drop: callers put it in
// a rejects file. Filter then applies filter_on_simrl (a record is kept only
// if its own target scores > 0.99 against itself under the Sim-RL reward).
package convert

import (
	"fmt"
	"sort"
	"strings"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/internal/pyjson"
)

// Formats lists the input formats Convert accepts.
var Formats = []string{"xlam", "toolace", "toolmind", "hammer", "openai", "messages"}

// Func converts the i-th record (0-based, as Python's enumerate counts it) of
// a source into zero or more message records.
type Func func(i int, v any) ([]*pyjson.Object, error)

// Lookup returns the converter for a format name.
func Lookup(format string) (Func, error) {
	switch format {
	case "xlam":
		return XLAM, nil
	case "toolace":
		return ToolACE, nil
	case "toolmind":
		return ToolMind, nil
	case "hammer":
		return Hammer, nil
	case "openai":
		return OpenAI, nil
	case "messages":
		return Messages, nil
	}
	s := append([]string(nil), Formats...)
	sort.Strings(s)
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(s, ", "))
}

func object(v any, field string) (*pyjson.Object, error) {
	o, ok := v.(*pyjson.Object)
	if !ok {
		if field == "" {
			return nil, jsonl.Errorf("", "record is %s, want an object", jsonl.TypeName(v))
		}
		return nil, jsonl.Errorf(field, "is %s, want an object", jsonl.TypeName(v))
	}
	return o, nil
}

func get(o *pyjson.Object, key, field string) (any, error) {
	v, ok := o.Get(key)
	if !ok {
		return nil, jsonl.Errorf(field, "missing")
	}
	return v, nil
}

// decoded returns v, or the JSON it holds when it is a string (the HF
// datasets store nested lists as JSON text).
func decoded(v any, field string) (any, error) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	d, err := pyjson.UnmarshalString(s)
	if err != nil {
		return nil, jsonl.Errorf(field, "JSON string does not parse: %v", err)
	}
	return d, nil
}

func list(v any, field string) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, jsonl.Errorf(field, "is %s, want an array", jsonl.TypeName(v))
	}
	return l, nil
}

func str(v any, field string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", jsonl.Errorf(field, "is %s, want a string", jsonl.TypeName(v))
	}
	return s, nil
}

// field gets key from o, decodes a JSON string, and checks it is a list.
func jsonList(o *pyjson.Object, key string) ([]any, error) {
	v, err := get(o, key, key)
	if err != nil {
		return nil, err
	}
	if v, err = decoded(v, key); err != nil {
		return nil, err
	}
	return list(v, key)
}

// nameParamsDesc rebuilds tools as {name, parameters (default {}),
// description (default "")}, the order XLAM and Hammer conversion emits.
func nameParamsDesc(tools []any, field string) ([]any, error) {
	out := make([]any, len(tools))
	for i, t := range tools {
		f := fmt.Sprintf("%s[%d]", field, i)
		o, err := object(t, f)
		if err != nil {
			return nil, err
		}
		name, err := get(o, "name", f+".name")
		if err != nil {
			return nil, err
		}
		params, ok := o.Get("parameters")
		if !ok {
			params = pyjson.NewObject()
		}
		desc, ok := o.Get("description")
		if !ok {
			desc = ""
		}
		out[i] = pyjson.NewObject("name", name, "parameters", params, "description", desc)
	}
	return out, nil
}

// XLAM converts an xlam-function-calling-60k row {id, query, answers, tools}.
func XLAM(_ int, v any) ([]*pyjson.Object, error) {
	o, err := object(v, "")
	if err != nil {
		return nil, err
	}
	id, err := get(o, "id", "id")
	if err != nil {
		return nil, err
	}
	qv, err := get(o, "query", "query")
	if err != nil {
		return nil, err
	}
	query, err := str(qv, "query")
	if err != nil {
		return nil, err
	}
	answers, err := jsonList(o, "answers")
	if err != nil {
		return nil, err
	}
	for i, a := range answers {
		if _, err := object(a, fmt.Sprintf("answers[%d]", i)); err != nil {
			return nil, err
		}
	}
	tl, err := jsonList(o, "tools")
	if err != nil {
		return nil, err
	}
	tools, err := nameParamsDesc(tl, "tools")
	if err != nil {
		return nil, err
	}
	msgs := []any{
		pyjson.NewObject("role", "user", "content", query),
		pyjson.NewObject("role", "assistant", "content", nil, "tool_calls", answers),
	}
	return []*pyjson.Object{pyjson.NewObject("id", "xlam_"+pyjson.Str(id), "messages", msgs, "tools", tools)}, nil
}

// Hammer converts a Hammer irrelevance row {trace_id, functions, messages,
// expected_output}: the expected output is the assistant's text reply.
func Hammer(_ int, v any) ([]*pyjson.Object, error) {
	o, err := object(v, "")
	if err != nil {
		return nil, err
	}
	id, err := get(o, "trace_id", "trace_id")
	if err != nil {
		return nil, err
	}
	fl, err := jsonList(o, "functions")
	if err != nil {
		return nil, err
	}
	tools, err := nameParamsDesc(fl, "functions")
	if err != nil {
		return nil, err
	}
	ml, err := jsonList(o, "messages")
	if err != nil {
		return nil, err
	}
	for i, m := range ml {
		if _, err := object(m, fmt.Sprintf("messages[%d]", i)); err != nil {
			return nil, err
		}
	}
	expected, err := get(o, "expected_output", "expected_output")
	if err != nil {
		return nil, err
	}
	if _, err := str(expected, "expected_output"); err != nil {
		return nil, err
	}
	msgs := append(append([]any(nil), ml...),
		pyjson.NewObject("role", "assistant", "content", expected, "tool_calls", nil))
	return []*pyjson.Object{pyjson.NewObject("id", id, "messages", msgs, "tools", tools)}, nil
}

// unwrapCall turns {"function": {name, arguments}} (OpenAI style, with or
// without "type"/"id") into {name, arguments}; a bare call is returned as is.
func unwrapCall(v any, field string) (*pyjson.Object, error) {
	o, err := object(v, field)
	if err != nil {
		return nil, err
	}
	if f, ok := o.Get("function"); ok {
		if o, err = object(f, field+".function"); err != nil {
			return nil, err
		}
		field += ".function"
	}
	name, err := get(o, "name", field+".name")
	if err != nil {
		return nil, err
	}
	if _, err := str(name, field+".name"); err != nil {
		return nil, err
	}
	args, err := get(o, "arguments", field+".arguments")
	if err != nil {
		return nil, err
	}
	return pyjson.NewObject("name", name, "arguments", args), nil
}

// ToolMind converts a ToolMind graphsyn row {conversations, tools, …}. Its
// assistant turns carry "<think>X</think>Y" content, split into
// reasoning_content X (not stripped, as the original) and content Y.
func ToolMind(i int, v any) ([]*pyjson.Object, error) {
	o, err := object(v, "")
	if err != nil {
		return nil, err
	}
	tl, err := jsonList(o, "tools")
	if err != nil {
		return nil, err
	}
	tools := make([]any, len(tl))
	for j, t := range tl {
		f := fmt.Sprintf("tools[%d]", j)
		to, err := object(t, f)
		if err != nil {
			return nil, err
		}
		if fn, ok := to.Get("function"); ok {
			if to, err = object(fn, f+".function"); err != nil {
				return nil, err
			}
			f += ".function"
		}
		if !to.Has("parameters") {
			if !to.Has("arguments") {
				return nil, jsonl.Errorf(f, "tool has neither parameters nor arguments")
			}
			n := pyjson.NewObject()
			for _, k := range to.Keys() {
				val, _ := to.Get(k)
				if k == "arguments" {
					k = "parameters"
				}
				n.Set(k, val)
			}
			to = n
		}
		tools[j] = to
	}
	cl, err := jsonList(o, "conversations")
	if err != nil {
		return nil, err
	}
	msgs := make([]any, len(cl))
	for j, m := range cl {
		f := fmt.Sprintf("conversations[%d]", j)
		mo, err := object(m, f)
		if err != nil {
			return nil, err
		}
		role, _ := mo.Get("role")
		switch role {
		case "user", "tool":
			msgs[j] = mo
		case "assistant":
			content := ""
			if c, ok := mo.Get("content"); ok && c != nil {
				if content, err = str(c, f+".content"); err != nil {
					return nil, err
				}
			}
			var reasoning any
			if k := strings.Index(content, "</think>"); k >= 0 {
				reasoning = strings.TrimPrefix(content[:k], "<think>")
				content = content[k+len("</think>"):]
			}
			var calls any
			if cv, ok := mo.Get("tool_calls"); ok && cv != nil {
				cl, err := list(cv, f+".tool_calls")
				if err != nil {
					return nil, err
				}
				out := make([]any, len(cl))
				for k, c := range cl {
					if out[k], err = unwrapCall(c, fmt.Sprintf("%s.tool_calls[%d]", f, k)); err != nil {
						return nil, err
					}
				}
				calls = out
			}
			msgs[j] = pyjson.NewObject("role", "assistant", "reasoning_content", reasoning, "tool_calls", calls, "content", content)
		default:
			return nil, jsonl.Errorf(f+".role", "unexpected role %s", pyjson.Repr(role))
		}
	}
	return []*pyjson.Object{pyjson.NewObject("tools", tools, "id", fmt.Sprintf("toolmind_%d", i), "messages", msgs)}, nil
}

// ToolACE walks a ToolACE-Qwen-cleaned dialogue and emits one sample per
// assistant turn (see STAR-SPEC §2): text turns directly, tool-call turns
// merged with the tool-call turns right after them into one parallel call.
// Calls whose name matches no tool, or whose argument names are not all
// top-level keys of the tool's "parameters" (the original checks those keys,
// which for a JSON-Schema tool are "type"/"properties"/"required"), drop the
// whole turn. Sample ids are toolace-<record>-<message index>. A dialogue
// that yields no sample is an error.
func ToolACE(i int, v any) ([]*pyjson.Object, error) {
	o, err := object(v, "")
	if err != nil {
		return nil, err
	}
	tools, err := jsonList(o, "tools")
	if err != nil {
		return nil, err
	}
	type tool struct {
		name   string
		params *pyjson.Object
	}
	tl := make([]tool, len(tools))
	for j, t := range tools {
		f := fmt.Sprintf("tools[%d]", j)
		to, err := object(t, f)
		if err != nil {
			return nil, err
		}
		nv, err := get(to, "name", f+".name")
		if err != nil {
			return nil, err
		}
		if tl[j].name, err = str(nv, f+".name"); err != nil {
			return nil, err
		}
		if p, ok := to.Get("parameters"); ok {
			tl[j].params, _ = p.(*pyjson.Object)
		}
	}
	conv, err := jsonList(o, "conversations")
	if err != nil {
		return nil, err
	}
	findTool := func(name string) *tool {
		for k := range tl {
			if tl[k].name == name {
				return &tl[k]
			}
		}
		for k := range tl {
			if strings.Contains(tl[k].name, name) || strings.Contains(name, tl[k].name) {
				return &tl[k]
			}
		}
		return nil
	}
	var history, pending []any
	var out []*pyjson.Object
	emit := func(j int) {
		h := append([]any(nil), history...)
		out = append(out, pyjson.NewObject("id", fmt.Sprintf("toolace-%d-%d", i, j), "messages", h, "tools", tools))
	}
	hasCalls := func(m *pyjson.Object) bool {
		c, ok := m.Get("tool_calls")
		if !ok || c == nil {
			return false
		}
		l, ok := c.([]any)
		return !ok || len(l) > 0
	}
	msgs := make([]*pyjson.Object, len(conv))
	for j, m := range conv {
		if msgs[j], err = object(m, fmt.Sprintf("conversations[%d]", j)); err != nil {
			return nil, err
		}
	}
	for j, m := range msgs {
		f := fmt.Sprintf("conversations[%d]", j)
		role, _ := m.Get("role")
		content, _ := m.Get("content")
		switch {
		case role == "user":
			if s, ok := content.(string); ok && s != "" {
				history = append(history, pyjson.NewObject("role", "user", "content", s))
			}
		case role == "tool":
			if _, ok := content.(string); !ok {
				content = pyjson.MarshalString(content)
			}
			history = append(history, pyjson.NewObject("role", "tool", "content", content))
		case role == "assistant" && hasCalls(m):
			cv, _ := m.Get("tool_calls")
			cl, err := list(cv, f+".tool_calls")
			if err != nil {
				return nil, err
			}
			var calls []any
			ok := true
			for k, c := range cl {
				call, err := unwrapCall(c, fmt.Sprintf("%s.tool_calls[%d]", f, k))
				if err != nil {
					return nil, err
				}
				name, _ := call.Get("name")
				t := findTool(name.(string))
				if t == nil {
					ok = false
					break
				}
				args, _ := call.Get("arguments")
				if s, isStr := args.(string); isStr {
					if args, err = pyjson.UnmarshalString(s); err != nil {
						ok = false
						break
					}
				}
				ao, isObj := args.(*pyjson.Object)
				if !isObj {
					ok = false
					break
				}
				for _, a := range ao.Keys() {
					if t.params == nil || !t.params.Has(a) {
						ok = false
						break
					}
				}
				if !ok {
					break
				}
				calls = append(calls, pyjson.NewObject("name", t.name, "arguments", ao))
			}
			if ok {
				pending = append(pending, calls...)
			}
			if j+1 == len(msgs) || !hasCalls(msgs[j+1]) {
				if len(pending) > 0 {
					history = append(history, pyjson.NewObject("role", "assistant", "tool_calls", pending))
					pending = nil
					emit(j)
				}
			}
		case role == "assistant":
			if _, ok := content.(string); !ok {
				return nil, jsonl.Errorf(f+".content", "is %s, want a string", jsonl.TypeName(content))
			}
			history = append(history, pyjson.NewObject("role", "assistant", "content", content))
			emit(j)
		default:
			return nil, jsonl.Errorf(f+".role", "unexpected role %s", pyjson.Repr(role))
		}
	}
	if len(out) == 0 {
		return nil, jsonl.Errorf("conversations", "no usable assistant turn (every tool-call turn had an unknown tool or argument)")
	}
	return out, nil
}

// OpenAI converts an OpenAI-style chat record {messages, tools}: wrapped
// tools and tool calls are unwrapped and string arguments parsed.
func OpenAI(_ int, v any) ([]*pyjson.Object, error) {
	rec, err := message.Parse(v)
	if err != nil {
		return nil, err
	}
	for mi := range rec.Messages {
		for ci := range rec.Messages[mi].ToolCalls {
			c := &rec.Messages[mi].ToolCalls[ci]
			args, err := c.Args()
			if err != nil {
				return nil, jsonl.Errorf(fmt.Sprintf("messages[%d].tool_calls[%d].arguments", mi, ci), "%v", err)
			}
			c.Arguments = args
		}
	}
	return []*pyjson.Object{rec.Object()}, nil
}

// Messages validates and normalises a record already in the messages format.
func Messages(_ int, v any) ([]*pyjson.Object, error) {
	rec, err := message.Parse(v)
	if err != nil {
		return nil, err
	}
	return []*pyjson.Object{rec.Object()}, nil
}
