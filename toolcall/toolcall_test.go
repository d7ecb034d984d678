package toolcall

import (
	"strings"
	"testing"

	"github.com/star-go/star/internal/pyjson"
)

func TestParse(t *testing.T) {
	type want struct {
		reasoning string
		think     int
		content   string
		calls     []string // name + " " + pyjson of arguments
		err       string   // substring of Err, "" for none
	}
	tests := []struct {
		name, text string
		want       want
	}{
		{"text reply", "<think>\nhm\n</think>\n\nHello there.", want{"hm", 1, "Hello there.", nil, ""}},
		{"one call",
			"<think>\nplan\n</think>\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1, \"b\": \"x\"}}\n</tool_call>",
			want{"plan", 1, "", []string{`f {"a": 1, "b": "x"}`}, ""}},
		{"parallel calls and text",
			"<think>p</think>Sure.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"g\", \"arguments\": {\"z\": 1.0, \"a\": 1e16}}\n</tool_call>",
			want{"p", 1, "Sure.", []string{"f {}", `g {"z": 1.0, "a": 1e+16}`}, ""}},
		{"missing opening think", "reasoning here\n</think>\n\nok", want{"reasoning here", 1, "ok", nil, ""}},
		{"no think", "just text", want{"", 0, "just text", nil, ""}},
		{"two think blocks", "<think>a</think><think>b</think>x", want{"a", 2, "x", nil, ""}},
		{"unclosed think", "<think>never ends", want{"", 0, "<think>never ends", nil, ""}},
		{"empty think", "<think>\n\n</think>\n\nhi", want{"", 1, "hi", nil, ""}},
		{"bad json",
			"<think>x</think><tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": }\n</tool_call><tool_call>{\"name\": \"g\", \"arguments\": {}}</tool_call>",
			want{"x", 1, "", []string{"g {}"}, "tool call 1: not JSON"}},
		{"no name", "<think>x</think><tool_call>{\"arguments\": {}}</tool_call>", want{"x", 1, "", nil, `tool call 1: no "name"`}},
		{"no arguments", "<think>x</think><tool_call>{\"name\": \"f\"}</tool_call>", want{"x", 1, "", nil, `tool call 1: no "arguments"`}},
		{"name not a string", "<think>x</think><tool_call>{\"name\": 3, \"arguments\": {}}</tool_call>", want{"x", 1, "", nil, `"name" is 3`}},
		{"not an object", "<think>x</think><tool_call>[1]</tool_call>", want{"x", 1, "", nil, "not a JSON object"}},
		{"second bad", "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call><tool_call>{}</tool_call>", want{"", 0, "", []string{"f {}"}, "tool call 2:"}},
		{"truncated call", "<think>x</think>\n<tool_call>\n{\"name\": \"f\", \"argu", want{"x", 1, "<tool_call>\n{\"name\": \"f\", \"argu", nil, "no closing"}},
		{"string arguments", "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>", want{"", 0, "", []string{`f "{\"a\": 1}"`}, ""}},
		{"big int and unicode", "<tool_call>{\"name\": \"é\", \"arguments\": {\"n\": 123456789012345678901234567890}}</tool_call>",
			want{"", 0, "", []string{`é {"n": 123456789012345678901234567890}`}, ""}},
		{"call inside think is reasoning", "<think><tool_call>{}</tool_call></think>ok", want{"<tool_call>{}</tool_call>", 1, "ok", nil, ""}},
		{"unicode space strip", "<think>\u3000r\u00a0</think>\u2003c\u0085", want{"r", 1, "c", nil, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse(tt.text)
			if m.Reasoning != tt.want.reasoning {
				t.Errorf("Reasoning = %q, want %q", m.Reasoning, tt.want.reasoning)
			}
			if m.ThinkBlocks != tt.want.think {
				t.Errorf("ThinkBlocks = %d, want %d", m.ThinkBlocks, tt.want.think)
			}
			if m.Content != tt.want.content {
				t.Errorf("Content = %q, want %q", m.Content, tt.want.content)
			}
			var got []string
			for _, c := range m.Calls {
				got = append(got, c.Name+" "+pyjson.MarshalString(c.Arguments))
			}
			if strings.Join(got, "|") != strings.Join(tt.want.calls, "|") {
				t.Errorf("Calls = %q, want %q", got, tt.want.calls)
			}
			switch {
			case tt.want.err == "" && m.Err != nil:
				t.Errorf("Err = %v, want none", m.Err)
			case tt.want.err != "" && (m.Err == nil || !strings.Contains(m.Err.Error(), tt.want.err)):
				t.Errorf("Err = %v, want %q", m.Err, tt.want.err)
			}
		})
	}
}

func TestRawAndBlocks(t *testing.T) {
	text := "a<tool_call>\n{\"name\": \"f\",  \"arguments\": {}}\n</tool_call>b<tool_call>x</tool_call><tool_call>open"
	bl := Blocks(text)
	if len(bl) != 2 || bl[0] != "\n{\"name\": \"f\",  \"arguments\": {}}\n" || bl[1] != "x" {
		t.Fatalf("Blocks = %q", bl)
	}
	m := Parse(text)
	if len(m.Calls) != 1 || m.Calls[0].Raw != bl[0] {
		t.Fatalf("Raw = %q", m.Calls)
	}
	if m.Err.(*CallError).Index != 1 {
		t.Fatalf("Err = %v, want index 1", m.Err)
	}
}

// TestRender checks Render against the Qwen3 chat template's output for an
// assistant turn (fixtures/qwen3/chat_template.jinja, lines 52-69).
func TestRender(t *testing.T) {
	args, _ := pyjson.UnmarshalString(`{"city": "Zürich", "n": 2.50, "tags": ["a", "b"]}`)
	calls := []Call{{Name: "weather", Arguments: args}, {Name: "g", Arguments: `{"raw":1}`}}
	want := "<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Zürich\", \"n\": 2.5, \"tags\": [\"a\", \"b\"]}}\n</tool_call>\n" +
		"<tool_call>\n{\"name\": \"g\", \"arguments\": {\"raw\":1}}\n</tool_call>"
	if got := Render(calls); got != want {
		t.Fatalf("Render =\n%s\nwant\n%s", got, want)
	}
	// Render then Parse gives the calls back.
	m := Parse("<think>r</think>\n\n" + Render(calls[:1]))
	if m.Err != nil || len(m.Calls) != 1 || m.Calls[0].Name != "weather" || !pyjson.Equal(m.Calls[0].Arguments, args) {
		t.Fatalf("round trip: %+v", m)
	}
	if got := calls[0].ArgumentsJSON(); got != `{"city": "Zürich", "n": 2.5, "tags": ["a", "b"]}` {
		t.Fatalf("ArgumentsJSON = %s", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"<think>x</think><tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>",
		"</think>a<tool_call>{\"name\": 1}</tool_call><tool_call>",
		"<think><think></think></think>",
		"\xff<tool_call>\"\xfe\"</tool_call>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Parse(s)
		if m.ThinkBlocks < 0 || len(m.Calls) > strings.Count(s, CallOpen) {
			t.Fatalf("counts: %+v", m)
		}
		if Strip(m.Content) != m.Content || Strip(m.Reasoning) != m.Reasoning {
			t.Fatalf("not stripped: %+v", m)
		}
		if len(m.Calls)+btoi(m.Err != nil) > len(Blocks(s))+btoi(m.Err != nil) {
			t.Fatalf("more calls than blocks")
		}
		// Every good call re-renders to something that parses to the same call.
		for _, c := range m.Calls {
			r := Parse(Render([]Call{c}))
			if _, isStr := c.Arguments.(string); isStr || strings.Contains(c.Name, `"`) || strings.Contains(c.Name, `\`) ||
				strings.Contains(c.Name, "<") || strings.Contains(pyjson.MarshalString(c.Arguments), "<") {
				continue // verbatim strings and tags inside JSON do not round-trip
			}
			if r.Err != nil || len(r.Calls) != 1 || r.Calls[0].Name != c.Name || !pyjson.Equal(r.Calls[0].Arguments, c.Arguments) {
				t.Fatalf("round trip of %q: %+v", c.Raw, r)
			}
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
