package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

// TestTrainSimRLCommand: a tiny student with the real Qwen3 tokenizer runs
// one episode over two fixture prompts with the builtin reward and writes a
// complete run directory; bad flags are usage errors.
func TestTrainSimRLCommand(t *testing.T) {
	dir := t.TempDir()
	m := filepath.Join(dir, "m")
	if _, err := runStdout(t, "model", "init", "--vocab", "151936", "--hidden", "8", "--layers", "1", "--heads", "2",
		"--kv-heads", "1", "--head-dim", "4", "--intermediate", "8", "--tie", "--tokenizer", fixture.Path(t, "fixtures/qwen3"), "-o", m); err != nil {
		t.Fatal(err)
	}
	// Two short STAR-style prompts (a tool list, a question, the open think block).
	var lines []string
	for _, city := range []string{"Paris", "Oslo"} {
		lines = append(lines, `{"id": "`+city+`", "inputs": "<|im_start|>system\n<tools>\n{\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}\n</tools><|im_end|>\n<|im_start|>user\nWeather in `+city+`?<|im_end|>\n<|im_start|>assistant\n<think>", "targets": "</think><tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"`+city+`\"}}\n</tool_call><|im_end|>\n"}`)
	}
	data := writeFile(t, dir, "rl.jsonl", strings.Join(lines, "\n")+"\n")
	run := filepath.Join(dir, "run")
	args := []string{"train", "simrl", "--model", m, "--data", data, "-o", run, "--rollout-batch", "1", "--n-samples", "2",
		"--max-new-tokens", "4", "--episodes", "1", "--filter", "off", "--max-prompt-len", "4096", "--lr", "1e-3"}
	var code int
	stderr := captureStderr(t, func() { code = runCLI(args) })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "simrl: 2 iterations") {
		t.Errorf("summary missing: %s", stderr)
	}
	for _, p := range []string{"run.json", "final/model.safetensors", "final/tokenizer.json", "curves.png"} {
		if _, err := os.Stat(filepath.Join(run, p)); err != nil {
			t.Error(err)
		}
	}
	if n := len(readLines(t, filepath.Join(run, "metrics.jsonl"))); n != 2 {
		t.Errorf("%d metrics lines, want 2", n)
	}
	for _, bad := range [][]string{
		{"--filter", "0.9,0.1"}, {"--filter", "x"}, {"--reward", "ftp://x"}, {"-o", ""},
	} {
		a := append(append([]string{}, args...), bad...)
		a[6] = filepath.Join(dir, "other")
		captureStderr(t, func() { code = runCLI(a) })
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}

func runCLI(args []string) int { return run(context.Background(), args) }
