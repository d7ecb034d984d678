package convert

import (
	"strings"
	"testing"

	"github.com/star-go/star/internal/pyjson"
)

func TestErrors(t *testing.T) {
	cases := []struct{ format, rec, want string }{
		{"xlam", `[]`, `record is`},
		{"xlam", `{"query": "q", "answers": [], "tools": []}`, `id: missing`},
		{"xlam", `{"id": 1, "answers": [], "tools": []}`, `query: missing`},
		{"xlam", `{"id": 1, "query": 2, "answers": [], "tools": []}`, `query: is a number, want a string`},
		{"xlam", `{"id": 1, "query": "q", "answers": "[x", "tools": []}`, `answers: JSON string does not parse`},
		{"xlam", `{"id": 1, "query": "q", "answers": {}, "tools": []}`, `answers: is an object, want an array`},
		{"xlam", `{"id": 1, "query": "q", "answers": [1], "tools": []}`, `answers[0]: is a number, want an object`},
		{"xlam", `{"id": 1, "query": "q", "answers": [], "tools": [{"description": "d"}]}`, `tools[0].name: missing`},
		{"hammer", `{"functions": [], "messages": [], "expected_output": "x"}`, `trace_id: missing`},
		{"hammer", `{"trace_id": "a", "functions": [], "messages": [], "expected_output": null}`, `expected_output: is null, want a string`},
		{"hammer", `{"trace_id": "a", "functions": [], "messages": [3], "expected_output": "x"}`, `messages[0]: is a number, want an object`},
		{"toolmind", `{"tools": [{"name": "f"}], "conversations": []}`, `tools[0]: tool has neither parameters nor arguments`},
		{"toolmind", `{"tools": [], "conversations": [{"role": "system", "content": "s"}]}`, `conversations[0].role: unexpected role 'system'`},
		{"toolmind", `{"tools": [], "conversations": [{"role": "assistant", "content": 5}]}`, `conversations[0].content: is a number, want a string`},
		{"toolmind", `{"tools": [], "conversations": [{"role": "assistant", "content": "", "tool_calls": [{"function": {"arguments": {}}}]}]}`, `conversations[0].tool_calls[0].function.name: missing`},
		{"toolmind", `{"tools": []}`, `conversations: missing`},
		{"toolace", `{"tools": "[]", "conversations": "[{\"role\": \"user\", \"content\": \"hi\"}]"}`, `conversations: no usable assistant turn`},
		{"toolace", `{"tools": "[{}]", "conversations": "[]"}`, `tools[0].name: missing`},
		{"toolace", `{"tools": "[]", "conversations": "[{\"role\": \"bot\"}]"}`, `conversations[0].role: unexpected role 'bot'`},
		{"toolace", `{"tools": "[]", "conversations": "[{\"role\": \"assistant\", \"content\": null}]"}`, `conversations[0].content: is null, want a string`},
		{"toolace", `{"tools": "[", "conversations": "[]"}`, `tools: JSON string does not parse`},
		{"openai", `{"messages": []}`, `messages: is empty`},
		{"openai", `{"messages": [{"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{"}}]}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}`, `messages[0].tool_calls[0].function.arguments: not a JSON object`},
		{"messages", `{"messages": [{"role": "assistant", "content": null, "tool_calls": [{"name": "g", "arguments": {}}]}], "tools": []}`, `unknown tool "g"`},
	}
	for _, c := range cases {
		conv, err := Lookup(c.format)
		if err != nil {
			t.Fatal(err)
		}
		v, err := pyjson.UnmarshalString(c.rec)
		if err != nil {
			t.Fatalf("%s: %v", c.rec, err)
		}
		_, err = conv(0, v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: error %v, want %q", c.format, c.rec, err, c.want)
		}
	}
	if _, err := Lookup("csv"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestOpenAI(t *testing.T) {
	v, _ := pyjson.UnmarshalString(`{"id": "a", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"x\": 1.0}"}}]}], "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"x": {"type": "number"}}}}}]}`)
	out, err := OpenAI(0, v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id": "a", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": null, "tool_calls": [{"name": "f", "arguments": {"x": 1.0}}]}], "tools": [{"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"x": {"type": "number"}}}}]}`
	if got := pyjson.MarshalString(out[0]); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
