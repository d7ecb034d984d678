package message

import (
	"testing"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

func parse(t *testing.T, s string) (*Record, error) {
	t.Helper()
	v, err := pyjson.UnmarshalString(s)
	if err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return Parse(v)
}

func TestParseErrors(t *testing.T) {
	tools := `"tools": [{"name": "f", "parameters": {}}]`
	tests := []struct{ in, want string }{
		{`[1]`, "record is an array, want an object"},
		{`{"id": "a"}`, "messages: missing"},
		{`{"messages": []}`, "messages: is empty"},
		{`{"messages": "hi"}`, "messages: is a string, want an array"},
		{`{"messages": [{"content": "x"}]}`, "messages[0].role: missing"},
		{`{"messages": [{"role": "bot", "content": "x"}]}`, `messages[0].role: unknown role "bot" (want system, user, assistant or tool)`},
		{`{"messages": [{"role": "user", "content": 5}]}`, "messages[0].content: is a number, want a string or null"},
		{`{"messages": [{"role": "assistant", "tool_calls": [{"name": "g", "arguments": {}}]}], ` + tools + `}`, `messages[0].tool_calls[0].name: unknown tool "g" (not in tools)`},
		{`{"messages": [{"role": "assistant", "tool_calls": [{"arguments": {}}]}], ` + tools + `}`, "messages[0].tool_calls[0].name: missing or not a non-empty string"},
		{`{"messages": [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": "{bad"}]}], ` + tools + `}`, "messages[0].tool_calls[0].arguments: not a JSON object: invalid JSON at byte 1: expecting a property name in double quotes"},
		{`{"messages": [{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": [1]}}]}], ` + tools + `}`, "messages[0].tool_calls[0].function.arguments: is an array, want an object or JSON text"},
		{`{"messages": [{"role": "user", "tool_calls": []}]}`, `messages[0].tool_calls: only assistant messages make tool calls (role is "user")`},
		{`{"messages": [{"role": "user", "content": "x"}], "tools": [{"description": "d"}]}`, "tools[0].name: missing or not a non-empty string"},
		{`{"messages": [{"role": "user", "content": "x"}], "tools": [{"name": "f", "parameters": "x"}]}`, "tools[0].parameters: is a string, want an object"},
		{`{"id": [1], "messages": [{"role": "user", "content": "x"}]}`, "id: is an array, want a string or a number"},
		{`{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}`, "messages[0].content[0]: only text content parts are supported"},
	}
	for _, tt := range tests {
		_, err := parse(t, tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%s)\n error %v\n want  %s", tt.in, err, tt.want)
			continue
		}
		if e := jsonl.At("f.jsonl", 7, err); e.Line != 7 || e.Error() != "f.jsonl:7: "+tt.want {
			t.Errorf("At: %v", e)
		}
	}
}

func TestUnwrapOpenAI(t *testing.T) {
	r, err := parse(t, `{"id": 7, "messages": [
		{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
		{"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\": 1.0}"}}]}],
		"tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Object().String()
	want := `{"id": 7, "messages": [{"role": "user", "content": "ab"}, {"role": "assistant", "content": null, "tool_calls": [{"name": "f", "arguments": "{\"x\": 1.0}"}]}], "tools": [{"name": "f", "description": "d", "parameters": {"type": "object"}}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	args, err := r.Last().ToolCalls[0].Args()
	if err != nil || args.String() != `{"x": 1.0}` {
		t.Errorf("Args = %v, %v", args, err)
	}
	if r.IDString() != "7" {
		t.Errorf("IDString = %q", r.IDString())
	}
}

func TestExampleMessages(t *testing.T) {
	rd, err := jsonl.Open(fixture.Path(t, "data/star/example_messages.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	n := 0
	for rd.Next() {
		v, err := rd.Value()
		if err != nil {
			t.Fatal(err)
		}
		r, err := Parse(v)
		if err != nil {
			t.Fatal(rd.Wrap(err))
		}
		if r.Last().Role != Assistant || r.IDString() == "" {
			t.Errorf("line %d: last role %q id %q", rd.Line(), r.Last().Role, r.IDString())
		}
		n++
	}
	if n != 1024 {
		t.Errorf("read %d records, want 1024", n)
	}
}
