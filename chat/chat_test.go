package chat

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/star-go/star/chat/jinja"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

type row struct {
	id       string
	agp      bool
	thinking *bool
	messages []any
	tools    []any
	text     string
}

func get(o *pyjson.Object, k string) any { v, _ := o.Get(k); return v }

// loadRows reads chat_template.jsonl. Some rows were re-serialized by a JS
// tool that lost the float/int distinction; for those the real JSON is in
// *_json_source fields and is used instead.
func loadRows(t testing.TB) []row {
	t.Helper()
	f, err := os.Open(fixture.Path(t, "fixtures/qwen3/chat_template.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		v, err := pyjson.Unmarshal(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		o := v.(*pyjson.Object)
		r := row{id: get(o, "id").(string), agp: get(o, "add_generation_prompt").(bool), text: get(o, "text").(string)}
		if b, ok := get(o, "enable_thinking").(bool); ok {
			r.thinking = &b
		}
		r.messages, _ = get(o, "messages").([]any)
		r.tools, _ = get(o, "tools").([]any)
		lossy := false
		if src, ok := get(o, "messages_json_source").(string); ok {
			lossy = true
			sv, err := pyjson.UnmarshalString(src)
			if err != nil {
				t.Fatalf("%s: messages_json_source: %v", r.id, err)
			}
			switch x := sv.(type) {
			case []any:
				r.messages = x
			case *pyjson.Object:
				// The source holds the arguments of the row's one tool call.
				n := 0
				for _, m := range r.messages {
					calls, _ := get(m.(*pyjson.Object), "tool_calls").([]any)
					for _, c := range calls {
						co := c.(*pyjson.Object)
						if _, ok := get(co, "arguments").(*pyjson.Object); ok {
							co.Set("arguments", x)
							n++
						}
					}
				}
				if n != 1 {
					t.Fatalf("%s: messages_json_source is an object but the row has %d object-argument tool calls", r.id, n)
				}
			}
		}
		if src, ok := get(o, "tools_json_source").(string); ok {
			tv, err := pyjson.UnmarshalString(src)
			if err != nil {
				t.Fatalf("%s: tools_json_source: %v", r.id, err)
			}
			r.tools = tv.([]any)
		} else if lossy && len(r.tools) > 0 {
			// No source for the tools of a lossy row: its tools are the
			// json.dumps lines of the <tools> block in the reference text.
			r.tools = toolsFromText(t, r.id, r.text)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func toolsFromText(t testing.TB, id, text string) []any {
	i := strings.Index(text, "<tools>\n")
	j := strings.Index(text, "\n</tools>")
	if i < 0 || j < i {
		t.Fatalf("%s: no <tools> block in text", id)
	}
	var tools []any
	for _, line := range strings.Split(text[i+len("<tools>\n"):j], "\n") {
		v, err := pyjson.UnmarshalString(line)
		if err != nil {
			t.Fatalf("%s: tool line: %v", id, err)
		}
		tools = append(tools, v)
	}
	return tools
}

func opts(r row) Options { return Options{AddGenerationPrompt: r.agp, EnableThinking: r.thinking} }

func qwenDir(t testing.TB) string {
	return filepath.Dir(fixture.Path(t, "fixtures/qwen3/chat_template.jinja"))
}

func TestQwen3Fixture(t *testing.T) {
	rows := loadRows(t)
	if len(rows) != 116 {
		t.Fatalf("got %d rows, want 116", len(rows))
	}
	tpl, err := Load(qwenDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		got, err := tpl.Render(r.messages, r.tools, opts(r))
		if err != nil {
			t.Errorf("row %d (%s): %v", i, r.id, err)
			continue
		}
		if got != r.text {
			t.Errorf("row %d (%s): mismatch\n got %q\nwant %q", i, r.id, got, r.text)
		}
	}
}

// The first-release template (tokenizer_config.json's chat_template) renders
// the rows without content:null identically and fails clearly on the others.
func TestQwen3OriginalTemplate(t *testing.T) {
	rows := loadRows(t)
	src, err := os.ReadFile(fixture.Path(t, "fixtures/qwen3/chat_template_original.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	// Load from a dir with only tokenizer_config.json: the template comes from its field.
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(qwenDir(t), "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	fromCfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := Parse("chat_template_original.jinja", string(src))
	if err != nil {
		t.Fatal(err)
	}
	ok, failed := 0, 0
	for i, r := range rows {
		hasNull := false
		for _, m := range r.messages {
			if c, present := m.(*pyjson.Object).Get("content"); present && c == nil {
				hasNull = true
			}
		}
		for _, tpl := range []*Template{fromCfg, fromFile} {
			got, err := tpl.Render(r.messages, r.tools, opts(r))
			if !hasNull {
				if err != nil {
					t.Errorf("row %d (%s): %v", i, r.id, err)
				} else if got != r.text {
					t.Errorf("row %d (%s): mismatch\n got %q\nwant %q", i, r.id, got, r.text)
				}
				continue
			}
			var je *jinja.Error
			if !errors.As(err, &je) || je.Line <= 0 {
				t.Errorf("row %d (%s): want a jinja.Error with a line, got %v (output %q)", i, r.id, err, got)
				continue
			}
			if !strings.Contains(err.Error(), "None") {
				t.Errorf("row %d (%s): error does not mention None: %v", i, r.id, err)
			}
		}
		if hasNull {
			failed++
		} else {
			ok++
		}
	}
	// Python jinja2 renders 24 of the 116 rows with this template.
	if ok != 24 || failed != 92 {
		t.Errorf("rendered %d, failed %d; want 24 and 92", ok, failed)
	}
	if _, err := fromCfg.Render(rows[len(rows)-1].messages, nil, Options{}); err == nil {
		t.Error("content:null row rendered with the original template")
	} else {
		t.Log("example error:", err)
	}
}

func TestConcurrentRender(t *testing.T) {
	rows := loadRows(t)
	tpl, err := Load(qwenDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(rows); i += 3 {
				r := rows[i]
				got, err := tpl.Render(r.messages, r.tools, opts(r))
				if err != nil || got != r.text {
					t.Errorf("row %d: concurrent render differs (%v)", i, err)
				}
			}
		}(g)
	}
	wg.Wait()
}

func BenchmarkRenderQwen3(b *testing.B) {
	rows := loadRows(b)
	tpl, err := Load(qwenDir(b))
	if err != nil {
		b.Fatal(err)
	}
	bytes := 0
	for _, r := range rows {
		bytes += len(r.text)
	}
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range rows {
			if _, err := tpl.Render(r.messages, r.tools, opts(r)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadVariants(t *testing.T) {
	msgs := []any{pyjson.NewObject("role", "user", "content", "hi")}
	tools := []any{pyjson.NewObject("name", "f")}

	// A named template set: "default", and "tool_use" when tools are given
	// (HF checks tools is not None, so an empty list selects it too).
	dir := t.TempDir()
	writeFile(t, dir, "tokenizer_config.json", `{"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "unk_token": null,
		"chat_template": [{"name": "default", "template": "D{{ bos_token }}{{ eos_token }}{{ unk_token is defined }}{{ messages[0].content }}"},
		                  {"name": "tool_use", "template": "T{{ tools | length }}"}]}`)
	tpl, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tools []any
		want  string
	}{{nil, "D<s></s>Falsehi"}, {tools, "T1"}, {[]any{}, "T0"}} {
		got, err := tpl.Render(msgs, c.tools, Options{})
		if err != nil || got != c.want {
			t.Errorf("tools=%v: got %q, %v; want %q", c.tools, got, err, c.want)
		}
	}
	if s, ok := tpl.SpecialToken("bos_token"); !ok || s != "<s>" {
		t.Errorf("bos_token = %q, %v", s, ok)
	}

	// chat_template.jinja wins over tokenizer_config.json's field.
	writeFile(t, dir, "chat_template.jinja", "J{{ eos_token }}{% if tools is none %}N{% endif %}\n")
	tpl, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tpl.Render(msgs, nil, Options{}); err != nil || got != "J</s>N" {
		t.Errorf("got %q, %v", got, err)
	}

	// Only a tool_use template: rendering without tools is an error.
	dir2 := t.TempDir()
	writeFile(t, dir2, "tokenizer_config.json", `{"chat_template": [{"name": "tool_use", "template": "x"}]}`)
	tpl, err = Load(dir2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Render(msgs, nil, Options{}); err == nil {
		t.Error("want an error without a default template")
	}

	// Syntax errors name the source and the line.
	dir3 := t.TempDir()
	writeFile(t, dir3, "tokenizer_config.json", `{"chat_template": "ok\n{% if x %}"}`)
	if _, err := Load(dir3); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json:chat_template:2:") {
		t.Errorf("got %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("want an error for a dir without a template")
	}
}

func TestOptions(t *testing.T) {
	tpl, err := Parse("t.jinja", "{{ add_generation_prompt }} {{ enable_thinking is defined }} {{ enable_thinking }} {{ custom }} {{ documents }}")
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	got, err := tpl.Render(nil, nil, Options{AddGenerationPrompt: true, EnableThinking: &yes, Extra: map[string]any{"custom": int64(3)}})
	if want := "True True True 3 None"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	got, err = tpl.Render(nil, nil, Options{})
	if want := "False False   None"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := tpl.Render(nil, nil, Options{Extra: map[string]any{"messages": []any{}}}); err == nil {
		t.Error("Extra may not override messages")
	}
}

// enable_thinking=true renders as if unset for Qwen3 (only false adds the
// empty think block), so rows with enable_thinking null must match.
func TestQwen3EnableThinkingTrue(t *testing.T) {
	rows := loadRows(t)
	tpl, err := Load(qwenDir(t))
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	n := 0
	for _, r := range rows {
		if r.thinking != nil {
			continue
		}
		got, err := tpl.Render(r.messages, r.tools, Options{AddGenerationPrompt: r.agp, EnableThinking: &yes})
		if err != nil || got != r.text {
			t.Errorf("%s: enable_thinking=true differs from unset (%v)", r.id, err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no rows with enable_thinking unset")
	}
}
