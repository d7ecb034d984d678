package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

func TestEvalBFCLCommands(t *testing.T) {
	ctx := context.Background()
	sample := fixture.Path(t, "fixtures/bfcl-sample")
	dir := t.TempDir()

	prompts := filepath.Join(dir, "prompts.jsonl")
	if err := runBFCLPrompts(ctx, []string{"--data", sample, "--categories", "live,java", "-o", prompts}); err != nil {
		t.Fatal(err)
	}
	if n := len(readLines(t, prompts)); n != 7*8 {
		t.Errorf("%d prompts, want 56 (live: 6 categories, java)", n)
	}
	err := runBFCLPrompts(ctx, []string{"--data", sample, "--categories", "simpel", "-o", prompts})
	if err == nil || !strings.Contains(err.Error(), `unknown category "simpel"`) {
		t.Errorf("typo: %v", err)
	}

	// A row that is not text is a verdict, not a crash; extra fields are carried.
	resp := writeFile(t, dir, "resp.jsonl", `{"id": "simple_0", "result": ["x"], "candidate": 3}`+"\n"+
		`{"id": "irrelevance_0", "result": "no call"}`+"\n")
	out := filepath.Join(dir, "score")
	if err := runBFCLScore(ctx, []string{"--data", sample, "--responses", resp, "-o", out}); err != nil {
		t.Fatal(err)
	}
	v := readLines(t, filepath.Join(out, "verdicts.jsonl"))
	if len(v) != 2 || !strings.Contains(v[0], `"error_type": "ast_decoder:decoder_failed"`) || !strings.Contains(v[0], `"candidate": 3`) {
		t.Errorf("verdicts: %q", v)
	}
	for _, f := range []string{"summary.json", "summary.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}

	// Unknown id: the error names the responses file and line.
	bad := writeFile(t, dir, "bad.jsonl", `{"id": "simple_0", "result": ""}`+"\n"+`{"id": "simple_999", "result": ""}`+"\n")
	err = runBFCLScore(ctx, []string{"--data", sample, "--responses", bad, "-o", out})
	if err == nil || !strings.Contains(err.Error(), bad+":2:") || !strings.Contains(err.Error(), "simple_999") {
		t.Errorf("unknown id: %v", err)
	}

	// Missing possible-answer file: the error names it.
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o755)
	raw, err := os.ReadFile(filepath.Join(sample, "BFCL_v3_simple.json"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, data, "BFCL_v3_simple.json", string(raw))
	err = runBFCLScore(ctx, []string{"--data", data, "--responses", bad, "-o", out})
	if err == nil || !strings.Contains(err.Error(), filepath.Join("possible_answer", "BFCL_v3_simple.json")) {
		t.Errorf("missing answers: %v", err)
	}
}

func TestEvalACEBenchCommands(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join("..", "..", "eval", "acebench", "testdata", "data")
	dir := t.TempDir()
	prompts := filepath.Join(dir, "prompts.jsonl")
	if err := runACEPrompts(ctx, []string{"--data", data, "-o", prompts}); err != nil {
		t.Fatal(err)
	}
	if n := len(readLines(t, prompts)); n != 60 {
		t.Errorf("%d prompts, want 60 (12 normal and 3 special categories × 4)", n)
	}
	if err := runACEPrompts(ctx, []string{"--data", data, "--categories", "agent_multi_step", "-o", prompts}); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("agent category: %v", err)
	}
	resp := writeFile(t, dir, "resp.jsonl", `{"id": "normal_atom_bool_1", "result": "[SolarNanoMaterialInsights(region_focus='Europe')]", "k": 1}`+"\n"+
		`{"id": "normal_atom_bool_1", "result": "[SolarNanoMaterialInsights(region_focus='Europe'"}`+"\n"+
		`{"id": "special_irrelevant_0", "result": 5}`+"\n")
	out := filepath.Join(dir, "score")
	if err := runACEScore(ctx, []string{"--data", data, "--responses", resp, "-o", out}); err != nil {
		t.Fatal(err)
	}
	v := readLines(t, filepath.Join(out, "verdicts.jsonl"))
	if len(v) != 3 || !strings.Contains(v[0], `"valid": true`) || !strings.Contains(v[0], `"k": 1`) ||
		!strings.Contains(v[1], `"wrong_output_format"`) || !strings.Contains(v[2], `"valid": false`) {
		t.Errorf("verdicts: %q", v)
	}
}

// TestEvalBFCLRunCommand runs `eval bfcl run` against a fake endpoint, then
// resumes it with a larger --limit: only the new questions are asked.
func TestEvalBFCLRunCommand(t *testing.T) {
	ctx := context.Background()
	sample := fixture.Path(t, "fixtures/bfcl-sample")
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		io.WriteString(w, `{"choices": [{"index": 0, "text": "<tool_call>\n{\"name\": \"calculate_triangle_area\", \"arguments\": {\"base\": 10, \"height\": 5}}\n</tool_call>"}]}`)
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"--data", sample, "--categories", "simple", "--endpoint", srv.URL, "--served-model", "m", "-o", out}
	if err := runBFCLRun(ctx, append(args, "--limit", "2")); err != nil {
		t.Fatal(err)
	}
	if err := runBFCLRun(ctx, append(args, "--limit", "3")); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("second run without --resume: %v", err)
	}
	if err := runBFCLRun(ctx, append(args, "--limit", "3", "--resume")); err != nil {
		t.Fatal(err)
	}
	if n := asked.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if n := len(readLines(t, filepath.Join(out, "responses.jsonl"))); n != 3 {
		t.Errorf("%d responses", n)
	}
	// Responses (and so verdicts) are written as they arrive: look them up by id.
	v := readLines(t, filepath.Join(out, "verdicts.jsonl"))
	valid := map[string]bool{}
	for _, line := range v {
		var row struct {
			ID    string `json:"id"`
			Valid bool   `json:"valid"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("verdict %q: %v", line, err)
		}
		valid[row.ID] = row.Valid
	}
	if len(v) != 3 || !valid["simple_0"] || valid["simple_1"] || valid["simple_2"] {
		t.Errorf("verdicts %q", v)
	}
	if err := runBFCLRun(ctx, []string{"--data", sample, "--endpoint", srv.URL, "-o", out}); err == nil || !strings.Contains(err.Error(), "--served-model") {
		t.Errorf("missing --served-model: %v", err)
	}
}

// TestEvalBFCLRunPrefill: --prefill is appended to every prompt and put back
// in front of the answer, so a model that continues "<think>" is decoded as
// gorilla's handler decodes a full answer.
func TestEvalBFCLRunPrefill(t *testing.T) {
	sample := fixture.Path(t, "fixtures/bfcl-sample")
	var bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var req struct {
			Prompt string `json:"prompt"`
		}
		if json.Unmarshal(b, &req) != nil || !strings.HasSuffix(req.Prompt, "<|im_start|>assistant\n<think>") {
			bad.Add(1)
		}
		io.WriteString(w, `{"choices": [{"index": 0, "text": "area</think>\n\n<tool_call>\n{\"name\": \"calculate_triangle_area\", \"arguments\": {\"base\": 10, \"height\": 5}}\n</tool_call>"}]}`)
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "run")
	if err := runBFCLRun(context.Background(), []string{"--data", sample, "--categories", "simple", "--endpoint", srv.URL,
		"--served-model", "m", "-o", out, "--limit", "1", "--prefill", "<think>"}); err != nil {
		t.Fatal(err)
	}
	if bad.Load() != 0 {
		t.Errorf("%d prompts did not end with the prefill", bad.Load())
	}
	rows := readLines(t, filepath.Join(out, "responses.jsonl"))
	v := readLines(t, filepath.Join(out, "verdicts.jsonl"))
	if len(rows) != 1 || !strings.Contains(rows[0], `"reasoning_content": "area"`) || len(v) != 1 || !strings.Contains(v[0], `"valid": true`) {
		t.Errorf("responses %q, verdicts %q", rows, v)
	}
}
