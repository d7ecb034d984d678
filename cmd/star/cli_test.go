package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

// captureStderr runs f with os.Stderr redirected and returns what it wrote.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan []byte)
	go func() {
		var buf []byte
		tmp := make([]byte, 4096)
		for {
			n, err := r.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if err != nil {
				done <- buf
				return
			}
		}
	}()
	f()
	w.Close()
	os.Stderr = old
	return string(<-done)
}

const goodRecord = `{"id": "ok-1", "messages": [{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris", "temp": 1.0}}]}], "tools": [{"name": "get_weather", "description": "Get weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "temp": {"type": "number"}}}}]}`

// badInput has one good record and one of each kind of bad record.
var badInput = strings.Join([]string{
	goodRecord,
	`{"id": "broken", "messages": [`,
	`{"id": "role", "messages": [{"role": "bot", "content": "x"}]}`,
	`{"id": "tool", "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"name": "nope", "arguments": {}}]}], "tools": [{"name": "get_weather", "parameters": {}}]}`,
	"{\"id\": \"utf8\", \"messages\": [{\"role\": \"user\", \"content\": \"\xff\"}]}",
	`{"id": "nomsg"}`,
	`{"id": "tmpl", "messages": [{"role": "system", "content": null}, {"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}], "tools": [{"name": "get_weather", "parameters": {}}]}`,
}, "\n") + "\n"

func TestDataTrainsetCommand(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.jsonl", badInput)
	out := filepath.Join(dir, "out.jsonl")
	rej := filepath.Join(dir, "rejects.jsonl")
	model := fixture.Path(t, "fixtures/qwen3")
	var code int
	stderr := captureStderr(t, func() {
		code = run(context.Background(), []string{"data", "trainset", in, "-o", out, "--model", model, "--rejects", rej, "--token-ids"})
	})
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	lines := readLines(t, out)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], `{"id": "ok-1", "inputs": "<|im_start|>system\n# Tools`) ||
		!strings.Contains(lines[0], `"targets": "</think><tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"temp\": 1.0}}\n</tool_call><|im_end|>\n", "input_ids": [151644, `) {
		t.Errorf("output:\n%s", strings.Join(lines, "\n"))
	}
	rejects := readLines(t, rej)
	wants := []string{
		`"line": 2, "field": "", "reason": "invalid JSON at byte 30: unexpected end of input`,
		`"line": 3, "field": "messages[0].role", "reason": "unknown role \"bot\"`,
		`"line": 4, "field": "messages[1].tool_calls[0].name", "reason": "unknown tool \"nope\"`,
		`"line": 5, "field": "", "reason": "line is not valid UTF-8"`,
		`"line": 6, "field": "messages", "reason": "missing"`,
		`"line": 7, "field": "messages", "reason": "chat template:`,
	}
	if len(rejects) != len(wants) {
		t.Fatalf("rejects file has %d lines, want %d:\n%s", len(rejects), len(wants), strings.Join(rejects, "\n"))
	}
	for i, w := range wants {
		if !strings.Contains(rejects[i], w) {
			t.Errorf("reject %d = %s\nwant it to contain %s", i, rejects[i], w)
		}
	}
	if !strings.Contains(stderr, "data trainset: 7 records, 1 written, 6 rejected") {
		t.Errorf("summary missing from stderr:\n%s", stderr)
	}
}

func TestChatRenderAndTokenizeCommands(t *testing.T) {
	dir := t.TempDir()
	model := fixture.Path(t, "fixtures/qwen3")
	in := writeFile(t, dir, "in.jsonl", goodRecord+"\n")
	rendered := filepath.Join(dir, "rendered.jsonl")
	ids := filepath.Join(dir, "ids.jsonl")
	back := filepath.Join(dir, "back.jsonl")
	captureStderr(t, func() {
		if code := run(context.Background(), []string{"chat", "render", "--model", model, "--add-generation-prompt", "--no-thinking", in, "-o", rendered}); code != 0 {
			t.Errorf("chat render exit %d", code)
		}
		if code := run(context.Background(), []string{"tokenize", "--model", model, rendered, "-o", ids}); code != 0 {
			t.Errorf("tokenize exit %d", code)
		}
		if code := run(context.Background(), []string{"tokenize", "--decode", "--model", model, ids, "-o", back}); code != 0 {
			t.Errorf("tokenize --decode exit %d", code)
		}
	})
	text := readLines(t, rendered)
	if len(text) != 1 || !strings.HasSuffix(text[0], `<|im_start|>assistant\n<think>\n\n</think>\n\n"}`) {
		t.Errorf("rendered: %s", text)
	}
	if got := readLines(t, back); got[0] != text[0] {
		t.Errorf("decode(encode(text)) differs:\n%s\n%s", got[0], text[0])
	}
	if got := readLines(t, ids); !strings.HasPrefix(got[0], `{"ids": [151644, 8948, 198,`) {
		t.Errorf("ids: %.80s", got[0])
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{"nope"},
		{"data", "trainset"},
		{"data", "trainset", "a.jsonl", "-o", "b.jsonl"},
		{"tokenize", "--bogus"},
	}
	for _, args := range tests {
		var code int
		captureStderr(t, func() { code = run(context.Background(), args) })
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	dir := t.TempDir()
	empty := writeFile(t, dir, "empty.jsonl", "")
	var code int
	stderr := captureStderr(t, func() {
		code = run(context.Background(), []string{"data", "trainset", empty, "-o", filepath.Join(dir, "o.jsonl"), "--model", fixture.Path(t, "fixtures/qwen3")})
	})
	if code != 1 || !strings.Contains(stderr, "empty.jsonl: no records (empty file)") {
		t.Errorf("empty input: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "o.jsonl")); !os.IsNotExist(err) {
		t.Errorf("output written for a failed run")
	}
}
