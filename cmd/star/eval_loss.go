package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/eval"
	"github.com/star-go/star/train"
)

func init() {
	register(command{name: "eval loss", summary: "held-out loss: mean cross-entropy per target token of a model on {inputs, targets} records", run: runEvalLoss})
}

func runEvalLoss(ctx context.Context, args []string) error {
	fs := newFlags("eval loss", "--model DIR --data test.jsonl [-o loss.json]")
	dir := fs.String("model", "", "HF model directory (its tokenizer reads text records)")
	data := fs.String("data", "", "{id, inputs, targets} or {id, input_ids, target_ids} JSONL (star data trainset)")
	out := fs.String("o", "", "also write the result as JSON to this file (atomically)")
	maxLen := fs.Int("max-len", 2048, "cut longer sequences from the right")
	microTok := fs.Int("micro-batch-tokens", 4096, "padded tokens per forward pass")
	rejectsPath := fs.String("rejects", "", "write unusable records with reasons to this JSONL file")
	backend := fs.String("backend", "", "compute backend: go (default) or xla:cuda, ... (also $STAR_BACKEND)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("%w: --data is required", errUsage)
	}
	m, err := loadModel(*dir, *backend)
	if err != nil {
		return err
	}
	rejects, err := jsonl.NewRejects(*rejectsPath)
	if err != nil {
		return err
	}
	r, err := train.EvalLoss(ctx, m, *dir, *data, *maxLen, *microTok, rejects, os.Stderr)
	if cerr := rejects.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Printf("eval loss: %.4f nats per target token (%d records, %d target tokens, %d rejected, %d truncated)\n",
		r.Loss, r.Records, r.TargetTokens, r.Rejected, r.Truncated)
	if *out == "" {
		return nil
	}
	b, err := json.MarshalIndent(map[string]any{"model": *dir, "data": *data, "loss": r.Loss, "records": r.Records,
		"target_tokens": r.TargetTokens, "rejected": r.Rejected, "truncated": r.Truncated}, "", "  ")
	if err != nil {
		return err
	}
	return eval.WriteFile(*out, append(b, '\n'))
}
