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
	"github.com/star-go/star/tokenizer"
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
	if _, err := runStdout(t, "model", "generate", "--model", tied, "--prompt", "hello"); err == nil || !strings.Contains(err.Error(), "--prompt needs the tokenizer of") {
		t.Errorf("--prompt: %v", err)
	}
}

// TestGeneratePrompt runs --prompt through the real Qwen3 tokenizer and chat
// template on a random model with Qwen3's vocabulary.
func TestGeneratePrompt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	if _, err := runStdout(t, "model", "init", "--vocab", "151669", "--hidden", "16", "--layers", "1", "--heads", "2",
		"--kv-heads", "1", "--head-dim", "8", "--intermediate", "32", "-o", dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"} {
		data, err := os.ReadFile(fixture.Path(t, "fixtures/qwen3/"+f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runStdout(t, "model", "generate", "--model", dir, "--prompt", "hello", "--no-thinking", "--max-new-tokens", "3")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tokens []int   `json:"tokens"`
		Text   *string `json:"text"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Tokens) == 0 || len(got.Tokens) > 3 || got.Text == nil {
		t.Errorf("generate --prompt output: %s", out)
	}
	ids, err := promptToIDs(mustTokenizer(t, dir), dir, "hello", false, true)
	if err != nil {
		t.Fatal(err)
	}
	// <|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n
	want := []int{151644, 872, 198, 14990, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271}
	if !slices.Equal(ids, want) {
		t.Errorf("prompt ids = %v, want %v", ids, want)
	}
}

func mustTokenizer(t *testing.T, dir string) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tok
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

// TestModelInitTokenizer: --tokenizer copies the tokenizer files and takes
// Qwen3's special ids from them; a vocabulary smaller than the tokenizer is
// refused.
func TestModelInitTokenizer(t *testing.T) {
	tok := fixture.Path(t, "fixtures/qwen3")
	dir := filepath.Join(t.TempDir(), "m")
	shape := []string{"model", "init", "--hidden", "8", "--layers", "1", "--heads", "2", "--kv-heads", "1",
		"--head-dim", "4", "--intermediate", "8", "--tie", "--tokenizer", tok, "-o", dir}
	if _, err := runStdout(t, append(shape, "--vocab", "151936")...); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		want, _ := os.ReadFile(filepath.Join(tok, f))
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s not copied from the tokenizer directory (err %v)", f, err)
		}
	}
	var cfg struct {
		BOS int   `json:"bos_token_id"`
		EOS []int `json:"eos_token_id"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "generation_config.json"))
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.BOS != 151643 || !slices.Equal(cfg.EOS, []int{151645, 151643}) {
		t.Errorf("generation_config ids = bos %d eos %v, want 151643 [151645 151643]", cfg.BOS, cfg.EOS)
	}
	if _, err := runStdout(t, append(shape, "--vocab", "1000")...); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "smaller than the tokenizer") {
		t.Errorf("vocab 1000 with the Qwen3 tokenizer: err = %v", err)
	}
}
