package gguf

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

// Ollama's template data, as its Go templates see it: tools and tool-call
// arguments print themselves as JSON (Stringers).
type (
	olJSON string
	olTool struct{ Function olJSON }
	olCall struct {
		Function struct {
			Name      string
			Arguments olJSON
		}
	}
	olMessage struct {
		Role, Content string
		ToolCalls     []olCall
	}
	olData struct {
		System   string
		Tools    []olTool
		Messages []olMessage
	}
)

func (j olJSON) String() string { return string(j) }

// TestModelfile renders docs/examples/Modelfile's TEMPLATE (shown in
// docs/export.md) with Go's
// text/template (which Ollama uses) and compares it with Qwen3's Jinja chat
// template (package chat, checked against Python's jinja2) with thinking off,
// on conversations of STAR's shapes. The JSON here is printed as Python's
// json.dumps does, to compare the structure; real Ollama prints tool schemas
// and arguments itself (compact, its own key order).
func TestModelfile(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", "Modelfile"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "export.md"))
	if err != nil {
		t.Fatal(err)
	}
	if from := strings.Index(string(src), "FROM "); from < 0 || !strings.Contains(string(doc), string(src[from:])) {
		t.Error("docs/export.md does not show docs/examples/Modelfile as it is")
	}
	m := regexp.MustCompile(`(?s)TEMPLATE """(.*?)"""`).FindSubmatch(src)
	if m == nil {
		t.Fatal(`Modelfile: no TEMPLATE """..."""`)
	}
	tmpl, err := template.New("Modelfile").Parse(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	jinja, err := chat.Load(fixture.Path(t, "fixtures/qwen3"))
	if err != nil {
		t.Fatal(err)
	}
	const tools = `[{"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
		{"name": "search", "description": "Web search", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}]`
	for _, c := range []struct{ name, messages, tools string }{
		{"plain", `[{"role": "user", "content": "hi"}]`, ""},
		{"system", `[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]`, ""},
		{"tools", `[{"role": "user", "content": "Weather in Paris?"}]`, tools},
		{"system and tools", `[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}]`, tools},
		{"multi-step", `[{"role": "user", "content": "Weather in Paris and Rome?"},
			{"role": "assistant", "content": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_weather", "arguments": {"city": "Rome"}}]},
			{"role": "tool", "content": "{\"temp\": 21}"}, {"role": "tool", "content": "{\"temp\": 25}"},
			{"role": "assistant", "content": "Let me also search.", "tool_calls": [{"name": "search", "arguments": {"q": "Rome café"}}]},
			{"role": "tool", "content": "[]"}]`, tools},
		{"history", `[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Weather?"}]`, tools},
	} {
		t.Run(c.name, func(t *testing.T) {
			msgs := mustPy(t, c.messages).([]any)
			var tl []any
			if c.tools != "" {
				tl = mustPy(t, c.tools).([]any)
			}
			off := false
			want, err := jinja.Render(msgs, tl, chat.Options{AddGenerationPrompt: true, EnableThinking: &off})
			if err != nil {
				t.Fatal(err)
			}
			var data olData
			for _, x := range tl {
				data.Tools = append(data.Tools, olTool{olJSON(pyjson.MarshalString(x))})
			}
			for i, x := range msgs {
				o := x.(*pyjson.Object)
				role, _ := o.Get("role")
				content, _ := o.Get("content")
				msg := olMessage{Role: role.(string), Content: content.(string)}
				if i == 0 && msg.Role == "system" {
					data.System = msg.Content
				}
				if calls, ok := o.Get("tool_calls"); ok {
					for _, tc := range calls.([]any) {
						call := tc.(*pyjson.Object)
						name, _ := call.Get("name")
						args, _ := call.Get("arguments")
						var oc olCall
						oc.Function.Name, oc.Function.Arguments = name.(string), olJSON(pyjson.MarshalString(args))
						msg.ToolCalls = append(msg.ToolCalls, oc)
					}
				}
				data.Messages = append(data.Messages, msg)
			}
			var got strings.Builder
			if err := tmpl.Execute(&got, data); err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("Modelfile renders\n%q\nQwen3's template\n%q", got.String(), want)
			}
		})
	}
}

func mustPy(t *testing.T, s string) any {
	t.Helper()
	v, err := pyjson.UnmarshalString(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
