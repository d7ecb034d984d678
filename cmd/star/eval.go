package main

import (
	"context"
	"fmt"

	"github.com/star-go/star/eval"
	"github.com/star-go/star/eval/acebench"
	"github.com/star-go/star/eval/bfcl"
	"github.com/star-go/star/internal/pyjson"
)

func init() {
	register(
		command{name: "eval bfcl prompts", summary: "BFCL v3 prompts exactly as gorilla's Qwen FC handler sends them", run: runBFCLPrompts},
		command{name: "eval bfcl score", summary: "score BFCL v3 responses as gorilla's checker does (verdicts, summary)", run: runBFCLScore},
		command{name: "eval acebench prompts", summary: "ACEBench (English) chat messages exactly as its local-model inference builds them", run: runACEPrompts},
		command{name: "eval acebench score", summary: "score ACEBench responses as its checker does (verdicts, summary)", run: runACEScore},
	)
}

func runBFCLPrompts(ctx context.Context, args []string) error {
	fs := newFlags("eval bfcl prompts", "--data DIR [--categories C] -o prompts.jsonl")
	data := fs.String("data", "", "BFCL v3 data directory (BFCL_v3_<category>.json files)")
	cats := fs.String("categories", "all", "categories or groups, comma-separated (all, non_live, live, hallucination, or names)")
	out := fs.String("o", "-", "output JSONL {id, category, prompt} (- for stdout)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("%w: --data is required", errUsage)
	}
	categories, err := bfcl.ParseCategories(*cats)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ds, err := bfcl.Load(*data, categories, false)
	if err != nil {
		return err
	}
	type row struct{ id, cat, prompt string }
	rows := make([]row, 0, len(ds.Order))
	for _, id := range ds.Order {
		e := ds.Entries[id]
		p, err := bfcl.Prompt(e)
		if err != nil {
			return err
		}
		rows = append(rows, row{id, e.Category, p})
	}
	return eval.WriteJSONL(*out, rows, func(r row) any {
		return pyjson.NewObject("id", r.id, "category", r.cat, "prompt", r.prompt)
	})
}

func runBFCLScore(ctx context.Context, args []string) error {
	fs := newFlags("eval bfcl score", "--data DIR --responses FILE -o OUT_DIR [--categories C]")
	data := fs.String("data", "", "BFCL v3 data directory (with possible_answer/)")
	responses := fs.String("responses", "", "responses JSONL {id, result, ...}")
	cats := fs.String("categories", "all", "categories or groups the summary covers")
	out := fs.String("o", "", "output directory (verdicts.jsonl, summary.json, summary.md)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" || *responses == "" || *out == "" {
		return fmt.Errorf("%w: --data, --responses and -o are required", errUsage)
	}
	categories, err := bfcl.ParseCategories(*cats)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	s, err := bfcl.ScoreFiles(*data, categories, *responses, *out)
	if err != nil {
		return err
	}
	fmt.Print(s.Markdown())
	return nil
}

func runACEPrompts(ctx context.Context, args []string) error {
	fs := newFlags("eval acebench prompts", "--data DIR [--categories C] -o prompts.jsonl")
	data := fs.String("data", "", "ACEBench English data directory (data_<category>.json files)")
	cats := fs.String("categories", "normal", "categories or groups, comma-separated (normal, special, atom, multi_turn, all, or names)")
	out := fs.String("o", "-", "output JSONL {id, category, messages} (- for stdout)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("%w: --data is required", errUsage)
	}
	categories, err := acebench.ParseCategories(*cats)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ds, err := acebench.Load(*data, categories, false)
	if err != nil {
		return err
	}
	return eval.WriteJSONL(*out, ds.Order, func(id string) any {
		e := ds.Entries[id]
		return pyjson.NewObject("id", id, "category", e.Category, "messages", acebench.Messages(e))
	})
}

func runACEScore(ctx context.Context, args []string) error {
	fs := newFlags("eval acebench score", "--data DIR --responses FILE -o OUT_DIR [--categories C]")
	data := fs.String("data", "", "ACEBench English data directory (with possible_answer/)")
	responses := fs.String("responses", "", "responses JSONL {id, result, ...}")
	cats := fs.String("categories", "normal,special", "categories or groups the summary covers")
	out := fs.String("o", "", "output directory (verdicts.jsonl, summary.json, summary.md)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" || *responses == "" || *out == "" {
		return fmt.Errorf("%w: --data, --responses and -o are required", errUsage)
	}
	categories, err := acebench.ParseCategories(*cats)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	s, err := acebench.ScoreFiles(*data, categories, *responses, *out)
	if err != nil {
		return err
	}
	fmt.Print(s.Markdown())
	return nil
}
