package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/progress"
	"github.com/star-go/star/tokenizer"
)

func init() {
	register(command{name: "tokenizer train", summary: "learn a byte-level BPE tokenizer (Qwen3 layout and special tokens) from text → HF dir", run: runTokenizerTrain})
}

func runTokenizerTrain(ctx context.Context, args []string) error {
	fs := newFlags("tokenizer train", "CORPUS... -o DIR --vocab-size N [--min-frequency 2] [--chat-template FILE] [--separate-space]")
	out := fs.String("o", "", "output directory (tokenizer.json, tokenizer_config.json)")
	vocab := fs.Int("vocab-size", 0, "total ids, Qwen3's 26 added tokens included (≥ 282)")
	minFreq := fs.Int64("min-frequency", 2, "stop when the most frequent pair occurs fewer times")
	tmplPath := fs.String("chat-template", "", "chat template for tokenizer_config.json (default: Qwen3's)")
	sepSpace := fs.Bool("separate-space", false, "never merge a word's leading space into it, so a word is the same token\n"+
		"after a space and after a quote (copying request values into tool calls is then copying tokens)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: want at least one CORPUS file (plain text, or .jsonl[.gz] of {\"text\"})", errUsage)
	}
	if *out == "" || *vocab == 0 {
		return fmt.Errorf("%w: -o DIR and --vocab-size N are required", errUsage)
	}
	tmpl := ""
	if *tmplPath != "" {
		b, err := os.ReadFile(*tmplPath)
		if err != nil {
			return err
		}
		tmpl = string(b)
	}
	tr := tokenizer.NewTrainer()
	for _, p := range pos {
		if err := addCorpus(tr, p); err != nil {
			return err
		}
	}
	bar := progress.New("tokenizer train", int64(*vocab-len(tokenizer.Qwen3AddedTokens)), "ids")
	b, err := tr.Train(ctx, tokenizer.TrainOptions{VocabSize: *vocab, MinFrequency: *minFreq, SeparateSpace: *sepSpace,
		Progress: func(done, _ int) { bar.Set(int64(done), int64(done)) }})
	bar.Finish()
	if err != nil {
		return err
	}
	if err := b.WriteDir(*out, tmpl); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %s\n", *out, b)
	if b.VocabSize() < *vocab {
		fmt.Fprintf(os.Stderr, "note: stopped at %d ids: no pair occurs %d times any more\n", b.VocabSize(), *minFreq)
	}
	return nil
}

// addCorpus feeds a plain text file whole, or each {"text"} of a JSONL file.
func addCorpus(tr *tokenizer.Trainer, path string) error {
	if !strings.HasSuffix(path, ".jsonl") && !strings.HasSuffix(path, ".jsonl.gz") {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		tr.Add(string(b))
		return nil
	}
	r, err := jsonl.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		o, err := r.Object()
		if err != nil {
			return err
		}
		t, _ := o.Get("text")
		s, ok := t.(string)
		if !ok {
			return r.Errorf("text", "missing or not a string")
		}
		tr.Add(s)
	}
	return r.Err()
}
