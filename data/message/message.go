// Package message is STAR's record format (STAR-SPEC §1): a conversation of
// messages, the last one the training target, and the tools it may call.
// Parse validates a decoded JSON record and unwraps OpenAI-style tool and
// tool-call wrappers; Object turns it back into JSON for templates and files.
package message

import (
	"fmt"
	"strings"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/pyjson"
)

// Roles a message may have.
const (
	System    = "system"
	User      = "user"
	Assistant = "assistant"
	Tool      = "tool"
)

// Record is one line of a messages file.
type Record struct {
	ID       any // as given: a string or a number; nil when absent
	Messages []Message
	// Tools are kept as objects because their key order is rendered into
	// prompts; Parse guarantees each has a string "name".
	Tools []*pyjson.Object
}

// Message is one turn. Content and ReasoningContent are nil when null or absent.
type Message struct {
	Role             string
	Content          *string
	ToolCalls        []ToolCall
	ReasoningContent *string
}

// ToolCall is one function call. Arguments is a *pyjson.Object, or a string
// holding JSON text (kept verbatim: templates print it as given).
type ToolCall struct {
	Name      string
	Arguments any
}

// Str returns a pointer to s, for building messages.
func Str(s string) *string { return &s }

// Text is the content, "" when null.
func (m *Message) Text() string {
	if m.Content == nil {
		return ""
	}
	return *m.Content
}

// Reasoning is the reasoning content, "" when null.
func (m *Message) Reasoning() string {
	if m.ReasoningContent == nil {
		return ""
	}
	return *m.ReasoningContent
}

// Args returns the arguments as an object, parsing JSON text if needed.
func (c *ToolCall) Args() (*pyjson.Object, error) {
	switch a := c.Arguments.(type) {
	case *pyjson.Object:
		return a, nil
	case string:
		v, err := pyjson.UnmarshalString(a)
		if err != nil {
			return nil, err
		}
		o, ok := v.(*pyjson.Object)
		if !ok {
			return nil, fmt.Errorf("arguments are %s, want an object", jsonl.TypeName(v))
		}
		return o, nil
	case nil:
		return &pyjson.Object{}, nil
	}
	return nil, fmt.Errorf("arguments are %s, want an object", jsonl.TypeName(c.Arguments))
}

// IDString is the id as text ("" when absent).
func (r *Record) IDString() string {
	switch id := r.ID.(type) {
	case nil:
		return ""
	case string:
		return id
	default:
		return pyjson.MarshalString(id)
	}
}

// Last is the training target, the final message.
func (r *Record) Last() *Message { return &r.Messages[len(r.Messages)-1] }

// ToolNames returns the set of tool names.
func (r *Record) ToolNames() map[string]*pyjson.Object {
	names := make(map[string]*pyjson.Object, len(r.Tools))
	for _, t := range r.Tools {
		n, _ := t.Get("name")
		names[n.(string)] = t
	}
	return names
}

// Object is the record as JSON: {"id", "messages", "tools"}.
func (r *Record) Object() *pyjson.Object {
	o := &pyjson.Object{}
	if r.ID != nil {
		o.Set("id", r.ID)
	}
	o.Set("messages", MessagesJSON(r.Messages))
	o.Set("tools", ToolsJSON(r.Tools))
	return o
}

// MessagesJSON converts messages to the list a chat template receives.
func MessagesJSON(ms []Message) []any {
	out := make([]any, len(ms))
	for i := range ms {
		out[i] = ms[i].Object()
	}
	return out
}

// ToolsJSON converts tools to a list of values.
func ToolsJSON(ts []*pyjson.Object) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// Object is the message as JSON: role, content, then tool_calls and
// reasoning_content when present.
func (m *Message) Object() *pyjson.Object {
	o := &pyjson.Object{Members: make([]pyjson.Member, 0, 4)}
	o.Set("role", m.Role)
	if m.Content != nil {
		o.Set("content", *m.Content)
	} else {
		o.Set("content", nil)
	}
	if m.ToolCalls != nil {
		calls := make([]any, len(m.ToolCalls))
		for i, c := range m.ToolCalls {
			args := c.Arguments
			if args == nil {
				args = &pyjson.Object{}
			}
			calls[i] = pyjson.NewObject("name", c.Name, "arguments", args)
		}
		o.Set("tool_calls", calls)
	}
	if m.ReasoningContent != nil {
		o.Set("reasoning_content", *m.ReasoningContent)
	}
	return o
}

// Parse validates a decoded record. Errors are *jsonl.FieldError naming the
// offending field (messages[2].tool_calls[0].name); place them with jsonl.At.
func Parse(v any) (*Record, error) {
	o, ok := v.(*pyjson.Object)
	if !ok {
		return nil, jsonl.Errorf("", "record is %s, want an object", jsonl.TypeName(v))
	}
	r := &Record{}
	if id, ok := o.Get("id"); ok {
		switch id.(type) {
		case string, nil:
		default:
			if !pyjson.IsNumber(id) {
				return nil, jsonl.Errorf("id", "is %s, want a string or a number", jsonl.TypeName(id))
			}
		}
		r.ID = id
	}
	if tv, ok := o.Get("tools"); ok && tv != nil {
		list, ok := tv.([]any)
		if !ok {
			return nil, jsonl.Errorf("tools", "is %s, want an array", jsonl.TypeName(tv))
		}
		for i, t := range list {
			tool, err := ParseTool(t)
			if err != nil {
				return nil, prefix(fmt.Sprintf("tools[%d]", i), err)
			}
			r.Tools = append(r.Tools, tool)
		}
	}
	mv, ok := o.Get("messages")
	if !ok {
		return nil, jsonl.Errorf("messages", "missing")
	}
	list, ok := mv.([]any)
	if !ok {
		return nil, jsonl.Errorf("messages", "is %s, want an array", jsonl.TypeName(mv))
	}
	if len(list) == 0 {
		return nil, jsonl.Errorf("messages", "is empty")
	}
	names := r.ToolNames()
	r.Messages = make([]Message, len(list))
	for i, m := range list {
		field := fmt.Sprintf("messages[%d]", i)
		msg, err := ParseMessage(m)
		if err != nil {
			return nil, prefix(field, err)
		}
		for j, c := range msg.ToolCalls {
			if _, ok := names[c.Name]; !ok {
				return nil, jsonl.Errorf(fmt.Sprintf("%s.tool_calls[%d].name", field, j), "unknown tool %q (not in tools)", c.Name)
			}
		}
		r.Messages[i] = *msg
	}
	return r, nil
}

// ParseMessage validates one message.
func ParseMessage(v any) (*Message, error) {
	o, ok := v.(*pyjson.Object)
	if !ok {
		return nil, jsonl.Errorf("", "is %s, want an object", jsonl.TypeName(v))
	}
	m := &Message{}
	role, _ := o.Get("role")
	switch role {
	case System, User, Assistant, Tool:
		m.Role = role.(string)
	case nil:
		return nil, jsonl.Errorf("role", "missing")
	default:
		return nil, jsonl.Errorf("role", "unknown role %s (want system, user, assistant or tool)", pyjson.MarshalString(role))
	}
	var err error
	if m.Content, err = text(o, "content"); err != nil {
		return nil, err
	}
	if m.ReasoningContent, err = text(o, "reasoning_content"); err != nil {
		return nil, err
	}
	if tc, ok := o.Get("tool_calls"); ok && tc != nil {
		list, ok := tc.([]any)
		if !ok {
			return nil, jsonl.Errorf("tool_calls", "is %s, want an array", jsonl.TypeName(tc))
		}
		if m.Role != Assistant {
			return nil, jsonl.Errorf("tool_calls", "only assistant messages make tool calls (role is %q)", m.Role)
		}
		m.ToolCalls = make([]ToolCall, len(list))
		for i, c := range list {
			call, err := ParseToolCall(c)
			if err != nil {
				return nil, prefix(fmt.Sprintf("tool_calls[%d]", i), err)
			}
			m.ToolCalls[i] = *call
		}
	}
	return m, nil
}

// text reads a string-or-null field; a list of OpenAI content parts
// ([{"type": "text", "text": ...}]) is joined.
func text(o *pyjson.Object, key string) (*string, error) {
	v, _ := o.Get(key)
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return &x, nil
	case []any:
		var b strings.Builder
		for i, p := range x {
			po, _ := p.(*pyjson.Object)
			typ, _ := po.Get("type")
			t, isText := po.Get("text")
			s, isStr := t.(string)
			if typ != "text" || !isText || !isStr {
				return nil, jsonl.Errorf(fmt.Sprintf("%s[%d]", key, i), "only text content parts are supported")
			}
			b.WriteString(s)
		}
		s := b.String()
		return &s, nil
	}
	return nil, jsonl.Errorf(key, "is %s, want a string or null", jsonl.TypeName(v))
}

// ParseToolCall accepts {name, arguments} or the OpenAI form
// {id, type: "function", function: {name, arguments: "<json>"}}.
func ParseToolCall(v any) (*ToolCall, error) {
	o, ok := v.(*pyjson.Object)
	if !ok {
		return nil, jsonl.Errorf("", "is %s, want an object", jsonl.TypeName(v))
	}
	field := ""
	if f, ok := o.Get("function"); ok {
		fo, ok := f.(*pyjson.Object)
		if !ok {
			return nil, jsonl.Errorf("function", "is %s, want an object", jsonl.TypeName(f))
		}
		o, field = fo, "function."
	}
	name, _ := o.Get("name")
	ns, ok := name.(string)
	if !ok || ns == "" {
		return nil, jsonl.Errorf(field+"name", "missing or not a non-empty string")
	}
	c := &ToolCall{Name: ns}
	args, ok := o.Get("arguments")
	switch a := args.(type) {
	case *pyjson.Object:
		c.Arguments = a
	case string:
		if _, err := (&ToolCall{Arguments: a}).Args(); err != nil {
			return nil, jsonl.Errorf(field+"arguments", "not a JSON object: %v", err)
		}
		c.Arguments = a
	case nil:
		if ok {
			return nil, jsonl.Errorf(field+"arguments", "is null, want an object")
		}
		c.Arguments = &pyjson.Object{}
	default:
		return nil, jsonl.Errorf(field+"arguments", "is %s, want an object or JSON text", jsonl.TypeName(args))
	}
	return c, nil
}

// ParseTool accepts {name, description, parameters} or the OpenAI wrapper
// {type: "function", function: {...}}, returning the inner object as given.
func ParseTool(v any) (*pyjson.Object, error) {
	o, ok := v.(*pyjson.Object)
	if !ok {
		return nil, jsonl.Errorf("", "is %s, want an object", jsonl.TypeName(v))
	}
	field := ""
	if f, ok := o.Get("function"); ok {
		if fo, ok := f.(*pyjson.Object); ok {
			o, field = fo, "function."
		}
	}
	name, _ := o.Get("name")
	if s, ok := name.(string); !ok || s == "" {
		return nil, jsonl.Errorf(field+"name", "missing or not a non-empty string")
	}
	if p, ok := o.Get("parameters"); ok && p != nil {
		if _, ok := p.(*pyjson.Object); !ok {
			return nil, jsonl.Errorf(field+"parameters", "is %s, want an object", jsonl.TypeName(p))
		}
	}
	return o, nil
}

func prefix(field string, err error) error {
	fe, ok := err.(*jsonl.FieldError)
	if !ok {
		return jsonl.Errorf(field, "%v", err)
	}
	if fe.Field == "" {
		return &jsonl.FieldError{Field: field, Reason: fe.Reason}
	}
	return &jsonl.FieldError{Field: field + "." + fe.Field, Reason: fe.Reason}
}
