package bfcl

import (
	"fmt"
	"strings"

	"github.com/star-go/star/internal/pyjson"
)

// asciiJSON is json.dumps' default: ", " / ": " separators, non-ASCII escaped.
var asciiJSON = &pyjson.Options{EnsureASCII: true}

// Prompt is the text QwenFCHandler sends to the completions endpoint for the
// entry's first turn: _pre_query_processing_prompting (function docs
// pre-processed for the category, no system prompt added) then _format_prompt.
func Prompt(e *Entry) (string, error) {
	fns, err := PreprocessFunctions(e.Function, e.ID)
	if err != nil {
		return "", fmt.Errorf("%s: %w", e.ID, err)
	}
	msgs, _ := e.Question[0].([]any)
	return FormatPrompt(msgs, fns)
}

// PreprocessFunctions is func_doc_language_specific_pre_processing on a deep
// copy of the docs, for the category named by the id (as the handler does).
func PreprocessFunctions(docs []any, id string) ([]any, error) {
	if len(docs) == 0 {
		return docs, nil
	}
	category := CategoryOf(id)
	out := deepCopy(docs).([]any)
	hint := " Note that the provided function is in Python 3 syntax."
	switch category {
	case "java":
		hint = " Note that the provided function is in Java 8 SDK syntax."
	case "javascript":
		hint = " Note that the provided function is in JavaScript syntax."
	}
	for i, item := range out {
		fn, ok := item.(*pyjson.Object)
		if !ok {
			return nil, fmt.Errorf("function[%d]: want an object", i)
		}
		desc, err := getString(fn, "description")
		if err != nil {
			return nil, fmt.Errorf("function[%d]: %w", i, err)
		}
		fn.Set("description", desc+hint)
		params, _ := fn.Get("parameters")
		po, _ := params.(*pyjson.Object)
		props, _ := po.Get("properties")
		pr, ok := props.(*pyjson.Object)
		if !ok {
			return nil, fmt.Errorf("function[%d].parameters.properties: want an object", i)
		}
		if category != "java" && category != "javascript" {
			continue
		}
		lang := map[string]string{"java": "Java", "javascript": "JavaScript"}[category]
		for _, m := range pr.Members {
			v, ok := m.Value.(*pyjson.Object)
			if !ok {
				return nil, fmt.Errorf("function[%d] parameter %q: want an object", i, m.Key)
			}
			typ, err := getString(v, "type")
			if err != nil {
				return nil, fmt.Errorf("function[%d] parameter %q: %w", i, m.Key, err)
			}
			d, err := getString(v, "description")
			if err != nil {
				return nil, fmt.Errorf("function[%d] parameter %q: %w", i, m.Key, err)
			}
			if typ == "any" {
				d += " This parameter can be of any type of " + lang + " object in string representation."
			} else {
				d += " This is " + lang + " " + typ + " type parameter in string representation."
			}
			listType := typ == "array"
			if category == "java" {
				listType = typ == "ArrayList" || typ == "Array"
			}
			if listType {
				items, _ := v.Get("items")
				io, _ := items.(*pyjson.Object)
				it, _ := io.Get("type")
				d += " The list elements are of type " + pyjson.Str(it) + "; they are not in string representation."
				v.Delete("items")
			}
			if category == "javascript" && typ == "dict" {
				if p, ok := v.Get("properties"); ok {
					d += " The dictionary entries have the following schema; they are not in string representation. " +
						string(pyjson.Append(nil, p, asciiJSON))
					v.Delete("properties")
				}
			}
			v.Set("description", d)
			v.Set("type", "string")
		}
	}
	return out, nil
}

// FormatPrompt is QwenFCHandler._format_prompt (Qwen3's chat template written
// out by hand, with json.dumps for the tool docs) plus the generation prompt.
func FormatPrompt(messages []any, functions []any) (string, error) {
	var b strings.Builder
	msgs := make([]*pyjson.Object, len(messages))
	for i, m := range messages {
		o, ok := m.(*pyjson.Object)
		if !ok {
			return "", fmt.Errorf("message %d: want an object", i)
		}
		msgs[i] = o
	}
	if len(msgs) == 0 {
		return "", fmt.Errorf("no messages")
	}
	role0, _ := msgs[0].Get("role")
	content0, _ := msgs[0].Get("content")
	if len(functions) > 0 {
		b.WriteString("<|im_start|>system\n")
		if role0 == "system" {
			b.WriteString(pyjson.Str(content0) + "\n\n")
		}
		b.WriteString("# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>")
		for _, t := range functions {
			b.WriteByte('\n')
			b.Write(pyjson.Append(nil, t, asciiJSON))
		}
		b.WriteString("\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n")
	} else if role0 == "system" {
		b.WriteString("<|im_start|>system\n" + pyjson.Str(content0) + "<|im_end|>\n")
	}

	lastQuery := len(msgs) - 1
	for idx := len(msgs) - 1; idx >= 0; idx-- {
		role, _ := msgs[idx].Get("role")
		c, isStr := contentOf(msgs[idx])
		if role == "user" && isStr && !(strings.HasPrefix(c, "<tool_response>") && strings.HasSuffix(c, "</tool_response>")) {
			lastQuery = idx
			break
		}
	}

	for idx, m := range msgs {
		roleV, _ := m.Get("role")
		role := pyjson.Str(roleV)
		cv, _ := m.Get("content")
		content := pyjson.Str(cv)
		switch {
		case role == "user" || (role == "system" && idx != 0):
			b.WriteString("<|im_start|>" + role + "\n" + content + "<|im_end|>\n")
		case role == "assistant":
			reasoning := ""
			if r, ok := m.Get("reasoning_content"); ok && truthy(r) {
				reasoning = pyjson.Str(r)
			} else if strings.Contains(content, "</think>") {
				parts := strings.Split(content, "</think>")
				before := strings.TrimRight(parts[0], "\n")
				if i := strings.LastIndex(before, "<think>"); i >= 0 {
					before = before[i+len("<think>"):]
				}
				reasoning = strings.TrimLeft(before, "\n")
				content = strings.TrimLeft(parts[len(parts)-1], "\n")
			}
			if idx > lastQuery && (idx == len(msgs)-1 || reasoning != "") {
				b.WriteString("<|im_start|>" + role + "\n<think>\n" + strings.Trim(reasoning, "\n") + "\n</think>\n\n" + strings.TrimLeft(content, "\n"))
			} else {
				b.WriteString("<|im_start|>" + role + "\n" + content)
			}
			if tcs, ok := m.Get("tool_calls"); ok {
				list, _ := tcs.([]any)
				for _, tc := range list {
					if (pyjson.Equal(tc, list[0]) && content != "") || !pyjson.Equal(tc, list[0]) {
						b.WriteByte('\n')
					}
					call, _ := tc.(*pyjson.Object)
					if f, ok := call.Get("function"); ok {
						call, _ = f.(*pyjson.Object)
					}
					name, _ := call.Get("name")
					args, _ := call.Get("arguments")
					b.WriteString("<tool_call>\n{\"name\": \"" + pyjson.Str(name) + "\", \"arguments\": ")
					if s, ok := args.(string); ok {
						b.WriteString(s)
					} else {
						b.Write(pyjson.Append(nil, args, asciiJSON))
					}
					b.WriteString("}\n</tool_call>")
				}
			}
			b.WriteString("<|im_end|>\n")
		case role == "tool":
			if idx == 0 || roleOf(msgs[idx-1]) != "tool" {
				b.WriteString("<|im_start|>user")
			}
			b.WriteString("\n<tool_response>\n" + content + "\n</tool_response>")
			if idx == len(msgs)-1 || roleOf(msgs[idx+1]) != "tool" {
				b.WriteString("<|im_end|>\n")
			}
		}
	}
	b.WriteString("<|im_start|>assistant\n")
	return b.String(), nil
}

func roleOf(m *pyjson.Object) string {
	r, _ := m.Get("role")
	s, _ := r.(string)
	return s
}

func contentOf(m *pyjson.Object) (string, bool) {
	c, _ := m.Get("content")
	s, ok := c.(string)
	return s, ok
}

// truthy is Python's bool() of a decoded value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case *pyjson.Object:
		return x.Len() > 0
	}
	f, ok := pyjson.Float(v)
	return !ok || f != 0
}

func getString(o *pyjson.Object, key string) (string, error) {
	v, ok := o.Get(key)
	if !ok {
		return "", fmt.Errorf("missing %q", key)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%q: want a string", key)
	}
	return s, nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case *pyjson.Object:
		out := &pyjson.Object{Members: make([]pyjson.Member, len(x.Members))}
		for i, m := range x.Members {
			out.Members[i] = pyjson.Member{Key: m.Key, Value: deepCopy(m.Value)}
		}
		return out
	}
	return v
}
