package bfcl

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/eval"
	"github.com/star-go/star/internal/fixture"
)

func TestMaxTokensRule(t *testing.T) {
	for _, c := range []struct{ n, ctx, want int }{
		{100, 40960, 4096}, {38000, 40960, 2958},
		{40958, 40960, 0}, // the prompt still fits, nothing is left: min(4096, 0)
		{40959, 40960, 1000}, {50000, 40960, 1000},
	} {
		if got := MaxTokens(c.n, c.ctx); got != c.want {
			t.Errorf("MaxTokens(%d, %d) = %d, want %d", c.n, c.ctx, got, c.want)
		}
	}
}

// TestRunAgainstFakeEndpoint runs the generation loop against an
// OpenAI-compatible test server: the prompts it receives are gorilla's
// (testdata/sample.prompts.jsonl), greedy with the 4096-token budget, and
// the rows (think split off, token counts kept) score as expected.
func TestRunAgainstFakeEndpoint(t *testing.T) {
	want := map[string]string{}
	for _, o := range readJSONL(t, "testdata/sample.prompts.jsonl") {
		want[get(o, "id").(string)] = get(o, "prompt").(string)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req endpoint.CompletionRequest
		if r.URL.Path != "/v1/completions" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", 400)
			return
		}
		prompt, _ := req.Prompt.(string)
		id := ""
		for k, p := range want {
			if p == prompt {
				id = k
			}
		}
		mu.Lock()
		seen[id] = true
		mu.Unlock()
		if id == "" || req.Temperature == nil || *req.Temperature != 0 || req.MaxTokens == nil || *req.MaxTokens != 4096 || req.Model != "served" {
			http.Error(w, "unexpected request", 400)
			return
		}
		text := "<think>\nthinking\n</think>\n\nI cannot do that."
		if id == "simple_0" {
			text = "<think>\nok\n</think>\n\n<tool_call>\n{\"name\": \"calculate_triangle_area\", \"arguments\": {\"base\": 10, \"height\": 5}}\n</tool_call>"
		}
		json.NewEncoder(w).Encode(endpoint.CompletionResponse{Choices: []endpoint.CompletionChoice{{Text: text}},
			Usage: &endpoint.Usage{PromptTokens: 7, CompletionTokens: 3}})
	}))
	defer srv.Close()

	dir := fixture.Path(t, "fixtures/bfcl-sample")
	ds, err := Load(dir, []string{"simple", "irrelevance"}, true)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := Jobs(ds, 10, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	responses := filepath.Join(out, "responses.jsonl")
	gen := &eval.Endpoint{Client: &endpoint.Client{BaseURL: srv.URL, Model: "served", Timeout: 10 * time.Second}, Concurrency: 4}
	if err := eval.Run(context.Background(), jobs, gen, eval.RunOptions{Path: responses, Row: Row}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 10 || seen[""] {
		t.Errorf("server saw %d distinct known prompts (unknown: %v)", len(seen), seen[""])
	}
	rows := readJSONL(t, responses)
	if len(rows) != 10 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		res := get(r, "result").(string)
		if strings.Contains(res, "think") || get(r, "reasoning_content") == nil || get(r, "input_token_count") != int64(7) {
			t.Errorf("row %s", r)
		}
	}
	s, err := ScoreFiles(dir, []string{"simple", "irrelevance"}, responses, out)
	if err != nil {
		t.Fatal(err)
	}
	// simple_0 right, simple_1..7 wrong; irrelevance_0, _1 right (no call).
	if a := s.Category["simple"]; a.Correct != 1 || a.Total != 8 {
		t.Errorf("simple: %+v", a)
	}
	if a := s.Category["irrelevance"]; a.Correct != 2 || a.Total != 2 {
		t.Errorf("irrelevance: %+v", a)
	}
}
