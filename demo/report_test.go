package demo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestToolChoice(t *testing.T) {
	dir := t.TempDir()
	test := filepath.Join(dir, "test.jsonl")
	responses := filepath.Join(dir, "responses.jsonl")
	call := func(name string) string {
		return `<tool_call>\n{\"name\": \"` + name + `\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>`
	}
	rows := []struct {
		id, want, result string
		right            bool
	}{
		{"simple_0", `[{"name": "get_weather", "arguments": {}}]`, call("get_weather"), true},
		{"simple_1", `[{"name": "get_weather", "arguments": {}}]`, call("get_sunrise"), false},
		{"parallel_0", `[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {}}]`, call("b") + `\n` + call("a"), true},
		{"parallel_1", `[{"name": "a", "arguments": {}}, {"name": "a", "arguments": {}}]`, call("a"), false},
		{"irrelevance_0", `null`, `Sorry, no tool can do that.`, true},
		{"irrelevance_1", `null`, call("get_weather"), false},
		{"simple_2", `[{"name": "get_weather", "arguments": {}}]`, `<tool_call>\n{\"name\": broken\n</tool_call>`, false},
	}
	var tb, rb strings.Builder
	wantRight := 0
	for _, r := range rows {
		tb.WriteString(`{"id": "` + r.id + `", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": null, "tool_calls": ` + r.want + `}]}` + "\n")
		rb.WriteString(`{"id": "` + r.id + `", "result": "` + r.result + `"}` + "\n")
		if r.right {
			wantRight++
		}
	}
	if err := os.WriteFile(test, []byte(tb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(responses, []byte(rb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	right, items, err := toolChoice(test, responses)
	if err != nil {
		t.Fatal(err)
	}
	if right != wantRight || items != len(rows) {
		t.Fatalf("right tools %d of %d, want %d of %d", right, items, wantRight, len(rows))
	}

	if err := os.WriteFile(responses, []byte(`{"id": "simple_9", "result": ""}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := toolChoice(test, responses); err == nil || !strings.Contains(err.Error(), "responses.jsonl:1") {
		t.Fatalf("unknown id: %v, want an error naming the file and line", err)
	}
}

func TestOpenThinkAndHeadLines(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	rows := `{"id": "a", "inputs": "<|im_start|>assistant\n<think>", "targets": "x</think>y"}` + "\n\n" +
		`{"id": "b", "inputs": "p", "targets": "t"}` + "\n" +
		`{"id": "c", "inputs": "q<think>", "targets": "u"}` + "\n"
	if err := os.WriteFile(in, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	if err := openThink(in, out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want := `{"id":"a","inputs":"\u003c|im_start|\u003eassistant\n","targets":"\u003cthink\u003ex\u003c/think\u003ey"}` + "\n" +
		`{"id":"b","inputs":"p","targets":"t"}` + "\n" +
		`{"id":"c","inputs":"q","targets":"\u003cthink\u003eu"}` + "\n"
	if string(got) != want {
		t.Fatalf("openThink wrote\n%s\nwant\n%s", got, want)
	}
	if err := headLines(in, out, 2); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(out)
	if lines := strings.Split(strings.TrimSpace(string(got)), "\n"); len(lines) != 2 || !strings.Contains(lines[1], `"b"`) {
		t.Fatalf("headLines 2 wrote %q", got)
	}
	if err := os.WriteFile(in, []byte("{}\n{broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := openThink(in, out); err == nil || !strings.Contains(err.Error(), "in.jsonl:2") {
		t.Fatalf("bad JSON: %v, want an error naming in.jsonl:2", err)
	}
}

func TestTestReward(t *testing.T) {
	dir := t.TempDir()
	test := filepath.Join(dir, "test.jsonl")
	responses := filepath.Join(dir, "responses.jsonl")
	prompt := "<|im_start|>system\n# Tools\n\n<tools>\n" +
		`{"name": "get_weather", "parameters": {"type": "dict", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}}}` +
		"\n</tools><|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n"
	label := "<think>\n\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
	row, _ := json.Marshal(map[string]string{"id": "simple_0", "inputs": prompt, "targets": label})
	if err := os.WriteFile(test, append(row, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	call := func(args string) string {
		return "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": " + args + "}\n</tool_call>"
	}
	think := "weather"
	for _, c := range []struct {
		name      string
		result    string
		reasoning *string
		want      float64
	}{
		{"exact", call(`{"city": "Paris"}`), &think, 1},
		{"one of two arguments", call(`{"city": "Paris", "unit": "celsius"}`), &think, 0.5},
		{"argument not in the schema", call(`{"town": "Paris"}`), &think, -1},
		{"no reasoning closed", call(`{"city": "Paris"}`), nil, -1},
		{"no call", "It is sunny.", &think, 0},
	} {
		r := map[string]any{"id": "simple_0", "result": c.result}
		if c.reasoning != nil {
			r["reasoning_content"] = *c.reasoning
		}
		b, _ := json.Marshal(r)
		if err := os.WriteFile(responses, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := testReward(test, responses)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: reward %v, want %v", c.name, got, c.want)
		}
	}
	if err := os.WriteFile(responses, []byte(`{"id": "simple_7", "result": ""}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := testReward(test, responses); err == nil || !strings.Contains(err.Error(), "responses.jsonl:1") {
		t.Fatalf("unknown id: %v, want an error naming the file and line", err)
	}
}
