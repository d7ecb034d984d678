package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/eval/bfcl"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/tokenizer"
)

// star demo world, then star tokenizer train on its corpus, give an HF
// directory the tokenizer and chat template load from, and a BFCL data
// directory the checker loads; the same seed writes the same files.
func TestDemoWorldAndTokenizerTrain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w1, w2, tok := filepath.Join(dir, "w1"), filepath.Join(dir, "w2"), filepath.Join(dir, "tok")
	for _, out := range []string{w1, w2} {
		captureStderr(t, func() {
			if err := runDemoWorld(ctx, []string{"-o", out, "--quick", "--seed", "3", "--test", "40"}); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, f := range []string{"train.jsonl", "rl.jsonl", "test.jsonl", "corpus.jsonl", "world.json", "bfcl/BFCL_v3_simple.json", "bfcl/possible_answer/BFCL_v3_parallel.json"} {
		a, err := os.ReadFile(filepath.Join(w1, f))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(w2, f))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs between two runs with seed 3", f)
		}
	}
	if n := len(readLines(t, filepath.Join(w1, "test.jsonl"))); n != 40 {
		t.Fatalf("--test 40 wrote %d records", n)
	}
	ds, err := bfcl.Load(filepath.Join(w1, "bfcl"), []string{"simple", "multiple", "parallel", "parallel_multiple", "irrelevance"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Entries) != 40 {
		t.Fatalf("bfcl/ has %d entries, want 40", len(ds.Entries))
	}

	stderr := captureStderr(t, func() {
		if err := runTokenizerTrain(ctx, []string{filepath.Join(w1, "corpus.jsonl"), "-o", tok, "--vocab-size", "600"}); err != nil {
			t.Fatal(err)
		}
	})
	if !bytes.Contains([]byte(stderr), []byte("600 ids")) {
		t.Errorf("summary: %q", stderr)
	}
	tk, err := tokenizer.Load(tok)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := chat.Load(tok)
	if err != nil {
		t.Fatal(err)
	}
	text, err := tmpl.Render([]any{pyjson.NewObject("role", "user", "content", "hi")}, nil, chat.Options{AddGenerationPrompt: true})
	if err != nil || text != "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n" {
		t.Fatalf("template from the trained dir: %q, %v", text, err)
	}
	for _, line := range readLines(t, filepath.Join(w1, "corpus.jsonl"))[:20] {
		if tk.Decode(tk.Encode(line)) != line {
			t.Fatal("a corpus line does not round-trip")
		}
	}

	if err := runTokenizerTrain(ctx, []string{filepath.Join(w1, "corpus.jsonl"), "-o", tok, "--vocab-size", "100"}); err == nil {
		t.Error("--vocab-size 100 accepted")
	}
	if err := runTokenizerTrain(ctx, []string{"-o", tok, "--vocab-size", "600"}); !errors.Is(err, errUsage) {
		t.Errorf("no corpus: %v, want a usage error", err)
	}
	if err := runDemoWorld(ctx, []string{"--quick"}); !errors.Is(err, errUsage) {
		t.Errorf("no -o: %v, want a usage error", err)
	}
}
