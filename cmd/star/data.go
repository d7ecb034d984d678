package main

import (
	"context"
	"fmt"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/data/trainset"
	"github.com/star-go/star/tokenizer"
)

func init() {
	register(command{name: "data trainset", summary: "messages → {id, inputs, targets} with the model's chat template", run: runTrainset})
}

func runTrainset(ctx context.Context, args []string) error {
	fs := newFlags("data trainset", "IN.jsonl -o OUT.jsonl --model DIR [--reasoning] [--rejects FILE] [--token-ids]")
	out := fs.String("o", "", "output JSONL (- for stdout)")
	modelDir := fs.String("model", "", "HF model directory (its chat template; tokenizer for --token-ids)")
	reasoning := fs.Bool("reasoning", false, "put the target's reasoning_content before </think> (CKD data)")
	rejects := fs.String("rejects", "", "write rejected records with reasons to this JSONL file")
	withIDs := fs.Bool("token-ids", false, "also write input_ids and target_ids")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" || *modelDir == "" {
		fs.Usage()
		return fmt.Errorf("%w: need IN, -o OUT and --model DIR", errUsage)
	}
	tmpl, err := chat.Load(*modelDir)
	if err != nil {
		return err
	}
	var tok *tokenizer.Tokenizer
	if *withIDs {
		if tok, err = tokenizer.Load(*modelDir); err != nil {
			return err
		}
	}
	b := &trainset.Builder{Template: tmpl, Reasoning: *reasoning}
	s := &recordStream{label: "data trainset", in: pos[0], out: *out, rejects: *rejects,
		fn: func(v any) ([]any, error) {
			rec, err := message.Parse(v)
			if err != nil {
				return nil, err
			}
			row, err := b.Build(rec)
			if err != nil {
				return nil, err
			}
			o := row.Object()
			if tok != nil {
				o.Set("input_ids", tok.Encode(row.Inputs))
				o.Set("target_ids", tok.Encode(row.Targets))
			}
			return []any{o}, nil
		}}
	return s.run(ctx)
}
