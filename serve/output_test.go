package serve

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
	"github.com/star-go/star/tokenizer"
)

// TestSplit parses scripted completions as the chat endpoint answers them.
func TestSplit(t *testing.T) {
	call := `<tool_call>
{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}
</tool_call>`
	cases := []struct {
		name, text string
		calls      bool
		reasoning  string
		hasR       bool
		content    string
		names      []string
		args       []string
	}{
		{"plain", "Hello there.", true, "", false, "Hello there.", nil, nil},
		{"think and answer", "<think>\nLet me see.\n</think>\n\nIt is sunny.", true, "Let me see.", true, "It is sunny.", nil, nil},
		{"think and call", "<think>\nneed weather\n</think>\n\n" + call, true, "need weather", true, "", []string{"get_weather"}, []string{`{"city": "Paris", "days": 3}`}},
		{"two calls with text", "I'll check.\n" + call + "\n" + strings.Replace(call, "Paris", "Rome", 1), true, "", false, "I'll check.",
			[]string{"get_weather", "get_weather"}, []string{`{"city": "Paris", "days": 3}`, `{"city": "Rome", "days": 3}`}},
		{"no tools: call stays text", call, false, "", false, call, nil, nil},
		{"missing opening think tag", "reasoning here</think>\n\nanswer", true, "reasoning here", true, "answer", nil, nil},
		{"unfinished thinking", "<think>\nstill thinking", true, "still thinking", true, "", nil, nil},
		{"unterminated call", "<tool_call>\n{\"name\": \"f\"", true, "", false, "<tool_call>\n{\"name\": \"f\"", nil, nil},
		{"bad call JSON is dropped", "<tool_call>\n{not json}\n</tool_call>", true, "", false, "", nil, nil},
		{"string arguments", `<tool_call>{"name": "f", "arguments": "{\"a\": 1}"}</tool_call>`, true, "", false, "", []string{"f"}, []string{`"{\"a\": 1}"`}},
		{"unicode kept", `<tool_call>{"name": "f", "arguments": {"city": "Zürich", "n": 1.0}}</tool_call>`, true, "", false, "", []string{"f"}, []string{`{"city": "Zürich", "n": 1.0}`}},
	}
	for _, c := range cases {
		p := split(c.text, c.calls, true)
		if p.Reasoning != c.reasoning || p.HasReasoning != c.hasR || p.Content != c.content || len(p.Calls) != len(c.names) {
			t.Errorf("%s: got %+v", c.name, p)
			continue
		}
		for i, call := range p.Calls {
			if call.Name != c.names[i] || call.ArgumentsJSON() != c.args[i] {
				t.Errorf("%s: call %d is %s(%s), want %s(%s)", c.name, i, call.Name, call.ArgumentsJSON(), c.names[i], c.args[i])
			}
		}
	}
}

// TestSplitStreaming feeds every prefix of scripted completions (split in
// the middle of tags and of UTF-8 characters): the deltas must add up to the
// final parse, and no delta may be taken back.
func TestSplitStreaming(t *testing.T) {
	texts := []string{
		"<think>\nLet me think about Zürich.\n</think>\n\nI'll call it.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Zürich\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
		"Plain answer with  double  spaces and a trailing newline\n",
		"<think>\n\n</think>\n\n日本語の答え",
	}
	for _, text := range texts {
		for _, calls := range []bool{true, false} {
			var r, c differ
			var got []string
			for i := 0; i <= len(text); i++ {
				prefix := strings.ToValidUTF8(text[:i], "\uFFFD") // as the tokenizer decodes a partial character
				final := i == len(text)
				p := split(prefix, calls, final)
				r.next(p.Reasoning)
				c.next(p.Content)
				for len(got) < len(p.Calls) {
					got = append(got, p.Calls[len(got)].Name+p.Calls[len(got)].ArgumentsJSON())
				}
				if !utf8.ValidString(r.sent) || strings.Contains(c.sent, "\uFFFD") {
					t.Fatalf("prefix %q: sent a partial character", prefix)
				}
			}
			want := split(text, calls, true)
			if r.sent != want.Reasoning || c.sent != want.Content || len(got) != len(want.Calls) {
				t.Errorf("streamed reasoning %q content %q calls %v; final %+v", r.sent, c.sent, got, want)
			}
		}
	}
}

func TestStreamText(t *testing.T) {
	stops := []string{"STOP", "\n\n"}
	cases := []struct {
		text  string
		final bool
		want  string
	}{
		{"hello ST", false, "hello "},
		{"hello ST", true, "hello ST"},
		{"hello STOP and more", false, "hello "},
		{"a\n", false, "a"},
		{"a\n\nb", true, "a"},
		{"caf\uFFFD", false, "caf"},
	}
	for _, c := range cases {
		if got := streamText(c.text, stops, c.final); got != c.want {
			t.Errorf("streamText(%q, final=%v) = %q, want %q", c.text, c.final, got, c.want)
		}
	}
}

// FuzzRequest: no body makes the decoders panic; what they reject is a 400
// naming a parameter or the body, and an accepted chat request renders.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		chatBody(""), chatBody(`"stream": true, "n": 3, "stop": ["x"], "logprobs": true, "top_logprobs": 3`),
		`{"model": "m", "messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]}, {"role": "tool", "content": "42"}]}`,
		`{"model": "m", "prompt": [[1, 2], [3]], "echo": true, "logprobs": 2, "prompt_logprobs": 1}`,
		`{"model": "m", "prompt": "hi", "max_tokens": 1.0, "seed": -1, "top_k": 0}`,
		`{"model": "m", "messages": [], "chat_template_kwargs": {"enable_thinking": "yes"}}`,
		`[]`, `{`, `{"messages": 5}`, `{"model": "m", "temperature": 1e999}`,
	} {
		f.Add([]byte(s))
	}
	lim := limits{MaxN: 8, MaxLogprobs: 5, VocabSize: 1000, Defaults: defaults{Temperature: 1, TopP: 1, TopK: -1}}
	var tmpl *chat.Template
	f.Fuzz(func(t *testing.T, body []byte) {
		if tmpl == nil {
			var err error
			if tmpl, err = chat.Load(fixture.Path(t, "fixtures/qwen3")); err != nil {
				t.Fatal(err)
			}
		}
		check := func(err error) {
			var ae *apiError
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Message == "" || ae.Type == "" {
				t.Fatalf("rejection %v (%T) is not a 400 API error", err, err)
			}
		}
		if r, err := parseChat(body, lim); err != nil {
			check(err)
		} else {
			if r.N < 1 || r.N > lim.MaxN || r.TopLogprobs > lim.MaxLogprobs || len(r.Messages) == 0 {
				t.Fatalf("accepted out-of-range request %+v", r)
			}
			_, _ = tmpl.Render(r.Messages, r.Tools, chat.Options{AddGenerationPrompt: true, EnableThinking: r.Thinking, Extra: r.Template})
		}
		if r, err := parseCompletion(body, lim); err != nil {
			check(err)
		} else {
			for _, ids := range r.IDs {
				for _, id := range ids {
					if id < 0 || id >= lim.VocabSize {
						t.Fatalf("accepted token %d", id)
					}
				}
			}
			if len(r.IDs)+len(r.Texts) == 0 || r.Logprobs > lim.MaxLogprobs || r.PromptLogprobs > lim.MaxLogprobs {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

func TestSamplingDefaults(t *testing.T) {
	m := &model.Model{Gen: &model.GenerationConfig{Raw: []byte(`{"temperature": 0.6, "top_p": 0.95, "top_k": 20, "eos_token_id": [1]}`)}}
	if d := samplingDefaults(m); d != (defaults{Temperature: 0.6, TopP: 0.95, TopK: 20}) {
		t.Errorf("from generation_config.json: %+v", d)
	}
	if d := samplingDefaults(&model.Model{}); d != (defaults{Temperature: 1, TopP: 1, TopK: -1}) {
		t.Errorf("OpenAI's defaults: %+v", d)
	}
	lim := limits{MaxN: 1, MaxLogprobs: 1, VocabSize: 10, Defaults: samplingDefaults(m)}
	r, err := parseCompletion([]byte(`{"model": "m", "prompt": "x", "top_k": 5}`), lim)
	if err != nil || r.Temperature != 0.6 || r.TopP != 0.95 || r.TopK != 5 {
		t.Errorf("request defaults: %+v %v", r, err)
	}
}

// TestStopIDs: generation stops at the model's EOS ids and at the
// tokenizer's eos_token (<|im_end|> for Qwen3), as vLLM stops.
func TestStopIDs(t *testing.T) {
	dir := fixture.Path(t, "fixtures/qwen3")
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := chat.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.NewRandom(model.NewConfig(151669, 8, 1, 2, 1, 4, 8, true), 1)
	if err != nil {
		t.Fatal(err)
	}
	m.Gen.EOSTokenIDs = []int{151643}
	s, err := New(m, tok, tmpl, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !slices.Equal(s.eos, []int{151643, 151645}) {
		t.Errorf("stop ids %v, want [151643 151645]", s.eos)
	}
}
