package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

// runStdout runs a command and returns what it printed on stdout.
func runStdout(t *testing.T, args ...string) (string, error) {
	t.Helper()
	c, rest := lookup(args)
	if c == nil {
		t.Fatalf("no command %v", args)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	err = c.run(context.Background(), rest)
	w.Close()
	os.Stdout = old
	return string(<-done), err
}

func TestModelCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	if _, err := runStdout(t, "model", "init", "--vocab", "300", "--hidden", "32", "--layers", "2", "--heads", "4",
		"--kv-heads", "2", "--head-dim", "8", "--intermediate", "64", "--seed", "7", "--dtype", "bf16", "-o", dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.safetensors", "generation_config.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("model init did not write %s", f)
		}
	}
	out, err := runStdout(t, "model", "info", dir)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("info is not JSON: %q", out)
	}
	// 300·32 embed + 300·32 lm_head + 32 norm + 2 layers · (32·32·2 + 16·32·2 + 2·8 + 2·32 + 3·32·64)
	want := 300*32*2 + 32 + 2*(32*32*2+16*32*2+2*8+2*32+3*32*64)
	if info["parameters"] != float64(want) || info["dtype"] != "BF16" || info["head_dim"] != float64(8) {
		t.Errorf("info: %v (want %d parameters, BF16)", info, want)
	}

	tied := fixture.Path(t, "fixtures/tiny-qwen3/tied-f32")
	out, err = runStdout(t, "model", "logits", "--model", tied, "--ids", "943,697,361")
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float64
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 3 || len(rows[0]) != 1000 {
		t.Fatalf("logits: %d rows, err %v", len(rows), err)
	}
	out, err = runStdout(t, "model", "generate", "--model", tied, "--ids", "312", "--max-new-tokens", "4", "--logprobs", "2")
	if err != nil {
		t.Fatal(err)
	}
	var gen struct {
		Tokens []int               `json:"tokens"`
		Top    [][]json.RawMessage `json:"top_logprobs"`
		Finish string              `json:"finish_reason"`
	}
	if err := json.Unmarshal([]byte(out), &gen); err != nil {
		t.Fatal(err)
	}
	// reference.json's greedy16 for [312] starts 86 86 86 692.
	if !slices.Equal(gen.Tokens, []int{86, 86, 86, 692}) || len(gen.Top) != 4 || len(gen.Top[0]) != 2 || gen.Finish != "length" {
		t.Errorf("generate: %s", out)
	}

	for _, bad := range [][]string{
		{"model", "logits", "--model", tied, "--ids", "1,x"},
		{"model", "logits", "--model", tied},
		{"model", "init", "--vocab", "10"},
		{"model", "init", "--vocab", "300", "--hidden", "32", "--layers", "1", "--heads", "3", "--kv-heads", "2",
			"--head-dim", "8", "--intermediate", "64", "-o", filepath.Join(t.TempDir(), "x")},
		{"model", "generate", "--model", tied, "--ids", "1", "--top-p", "0"},
	} {
		if _, err := runStdout(t, bad...); !errors.Is(err, errUsage) {
			t.Errorf("%v: want a usage error, got %v", bad, err)
		}
	}
	if _, err := runStdout(t, "model", "generate", "--model", tied, "--prompt", "hello"); err == nil || !strings.Contains(err.Error(), "needs tokenizer") {
		t.Errorf("--prompt: %v", err)
	}
}

func TestBenchCommands(t *testing.T) {
	out, err := runStdout(t, "bench", "train", "--vocab", "128", "--hidden", "32", "--layers", "1", "--heads", "2",
		"--kv-heads", "1", "--head-dim", "16", "--intermediate", "64", "--seq", "16", "--batch", "2", "--steps", "2")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], "tokens/s: ") || !strings.Contains(out, "step 2: loss") || !strings.Contains(out, "peak memory") {
		t.Errorf("bench train output:\n%s", out)
	}
	out, err = runStdout(t, "bench", "generate", "--vocab", "128", "--hidden", "32", "--layers", "1", "--heads", "2",
		"--kv-heads", "1", "--head-dim", "16", "--intermediate", "64", "--batch", "2", "--prompt-len", "5", "--new-tokens", "6")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "decode: 10 tokens") || !strings.Contains(out, "tokens/s: ") {
		t.Errorf("bench generate output:\n%s", out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, rest := lookup([]string{"bench", "train", "--steps", "1"})
	if err := c.run(ctx, rest); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled bench train: %v", err)
	}
}
