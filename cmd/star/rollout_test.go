package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/internal/fixture"
)

// TestRolloutCommand drives `star rollout` against a fake teacher that
// lists one model and answers every prompt with the same valid call.
func TestRolloutCommand(t *testing.T) {
	var got endpoint.CompletionRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			io.WriteString(w, `{"object": "list", "data": [{"id": "teacher-8b", "object": "model"}]}`)
		case "/v1/completions":
			json.NewDecoder(r.Body).Decode(&got)
			text := "<think>\nok\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>"
			resp := endpoint.CompletionResponse{}
			for i := range got.N {
				resp.Choices = append(resp.Choices, endpoint.CompletionChoice{Index: i, Text: text, FinishReason: endpoint.Ptr("stop")})
			}
			json.NewEncoder(w).Encode(resp)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	in := writeFile(t, dir, "in.jsonl", goodRecord+"\n")
	out := filepath.Join(dir, "out.jsonl")
	stderr := captureStderr(t, func() {
		if code := run(context.Background(), []string{"rollout", in, "-o", out, "--endpoint", srv.URL + "/v1",
			"--model", fixture.Path(t, "fixtures/qwen3"), "-n", "3", "--top-k", "20", "--seed", "5"}); code != 0 {
			t.Errorf("exit status %d", code)
		}
	})
	if got.Model != "teacher-8b" || got.N != 3 || *got.TopK != 20 || *got.Seed != 5 {
		t.Errorf("request %+v", got)
	}
	lines := readLines(t, out)
	if len(lines) != 1 || !strings.Contains(lines[0], `{"role": "assistant", "content": null, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}], "reasoning_content": "ok"}`) {
		t.Errorf("output %q", lines)
	}
	if !strings.Contains(stderr, "1 records: 1 sampled, 1 accepted") || !strings.Contains(stderr, "3 completions: 1 kept, 2 duplicates, 0 invalid") {
		t.Errorf("stderr:\n%s", stderr)
	}
	// Bad usage is status 2.
	if code := run(context.Background(), []string{"rollout", in, "-o", out, "--model", dir}); code != 2 {
		t.Errorf("no --endpoint/--teacher: status %d, want 2", code)
	}
}
