package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/eval"
	"github.com/star-go/star/eval/acebench"
	"github.com/star-go/star/eval/bfcl"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/tokenizer"
)

func init() {
	register(
		command{name: "eval bfcl prompts", summary: "BFCL v3 prompts exactly as gorilla's Qwen FC handler sends them", run: runBFCLPrompts},
		command{name: "eval bfcl score", summary: "score BFCL v3 responses as gorilla's checker does (verdicts, summary)", run: runBFCLScore},
		command{name: "eval bfcl run", summary: "generate BFCL v3 responses (local model or endpoint), then score them", run: runBFCLRun},
		command{name: "eval acebench prompts", summary: "ACEBench (English) chat messages exactly as its local-model inference builds them", run: runACEPrompts},
		command{name: "eval acebench score", summary: "score ACEBench responses as its checker does (verdicts, summary)", run: runACEScore},
		command{name: "eval acebench run", summary: "generate ACEBench responses (local model or endpoint), then score them", run: runACERun},
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
	cats := fs.String("categories", "normal,special", "categories or groups, comma-separated (normal, special, atom, multi_turn, all, or names)")
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

// genFlags are the generation flags `eval ... run` shares.
type genFlags struct {
	model, backend, endpoint, served, apiKey, tokenizer *string
	limit, concurrency, maxContext, maxNew              *int
	resume                                              *bool
}

func addGenFlags(fs *flag.FlagSet) *genFlags {
	return &genFlags{
		model:       fs.String("model", "", "local model directory (HF layout, with tokenizer files)"),
		backend:     fs.String("backend", "", "compute backend for --model: go (default) or xla:cuda, ... (also $STAR_BACKEND)"),
		endpoint:    fs.String("endpoint", "", "OpenAI-compatible server URL, instead of --model"),
		served:      fs.String("served-model", "", "model name to send to --endpoint"),
		apiKey:      fs.String("api-key", "", "bearer token for --endpoint"),
		tokenizer:   fs.String("tokenizer", "", "tokenizer directory for the BFCL token budget with --endpoint (default: budget 4096)"),
		limit:       fs.Int("limit", 0, "only the first N questions (0: all)"),
		concurrency: fs.Int("concurrency", 8, "requests in flight (--endpoint) or batch size (--model)"),
		maxContext:  fs.Int("max-context", 40960, "context length for the BFCL budget with --endpoint (Qwen3: 40960)"),
		maxNew:      fs.Int("max-new-tokens", 0, "cap on generated tokens per item, for quick runs (0: the benchmark's own budget)"),
		resume:      fs.Bool("resume", false, "continue an interrupted run: keep OUT_DIR/responses.jsonl and skip its ids"),
	}
}

// generator builds the --model or --endpoint generator, with a token
// counter and the context length when they are known.
func (g *genFlags) generator() (eval.Generator, func(string) int, int, error) {
	switch {
	case (*g.model == "") == (*g.endpoint == ""):
		return nil, nil, 0, fmt.Errorf("%w: give exactly one of --model DIR or --endpoint URL", errUsage)
	case *g.endpoint != "":
		if *g.served == "" {
			return nil, nil, 0, fmt.Errorf("%w: --endpoint needs --served-model NAME", errUsage)
		}
		c := &endpoint.Client{BaseURL: *g.endpoint, Model: *g.served, APIKey: *g.apiKey, Concurrency: *g.concurrency}
		var count func(string) int
		if *g.tokenizer != "" {
			tok, err := tokenizer.Load(*g.tokenizer)
			if err != nil {
				return nil, nil, 0, err
			}
			count = func(s string) int { return len(tok.Encode(s)) }
		}
		return &eval.Endpoint{Client: c, Concurrency: *g.concurrency}, count, *g.maxContext, nil
	}
	m, err := loadModel(*g.model, *g.backend)
	if err != nil {
		return nil, nil, 0, err
	}
	tok, err := tokenizer.Load(*g.model)
	if err != nil {
		return nil, nil, 0, err
	}
	tmpl, err := chat.Load(*g.model)
	if err != nil {
		tmpl = nil // only ACEBench needs it; its jobs report the error
	}
	l := &eval.Local{Model: m, Tokenizer: tok, Template: tmpl, BatchSize: *g.concurrency}
	return l, func(s string) int { return len(tok.Encode(s)) }, m.Config.MaxPositionEmbeddings, nil
}

func runBFCLRun(ctx context.Context, args []string) error {
	fs := newFlags("eval bfcl run", "--data DIR (--model DIR | --endpoint URL --served-model NAME) -o OUT_DIR [--limit N] [--concurrency C] [--resume]")
	data := fs.String("data", "", "BFCL v3 data directory (with possible_answer/)")
	cats := fs.String("categories", "all", "categories or groups, comma-separated")
	out := fs.String("o", "", "output directory (responses.jsonl, verdicts.jsonl, summary.json, summary.md)")
	prefill := fs.String("prefill", "", "text appended to every prompt as the start of the answer, e.g. \"<think>\" for a model trained\n"+
		"only on STAR train sets (their inputs end with it, so it never learned to write it); default: gorilla's prompt as is")
	g := addGenFlags(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		return fmt.Errorf("%w: --data and -o are required", errUsage)
	}
	categories, err := bfcl.ParseCategories(*cats)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ds, err := bfcl.Load(*data, bfcl.Present(*data, categories), true)
	if err != nil {
		return err
	}
	gen, count, maxCtx, err := g.generator()
	if err != nil {
		return err
	}
	jobs, err := bfcl.Jobs(ds, *g.limit, count, maxCtx)
	if err != nil {
		return err
	}
	capTokens(jobs, *g.maxNew)
	row := bfcl.Row
	if *prefill != "" {
		// The model continues the prefill: the raw answer is prefill + output.
		for i := range jobs {
			jobs[i].Prompt += *prefill
		}
		row = func(j eval.Job, o eval.Output) *pyjson.Object {
			if o.Err == nil {
				o.Text = *prefill + o.Text
			}
			return bfcl.Row(j, o)
		}
	}
	responses := filepath.Join(*out, "responses.jsonl")
	if err := eval.Run(ctx, jobs, gen, eval.RunOptions{Path: responses, Resume: *g.resume, Label: "bfcl", Row: row}); err != nil {
		return err
	}
	s, err := bfcl.ScoreFiles(*data, categories, responses, *out)
	if err != nil {
		return err
	}
	fmt.Print(s.Markdown())
	return nil
}

func runACERun(ctx context.Context, args []string) error {
	fs := newFlags("eval acebench run", "--data DIR (--model DIR | --endpoint URL --served-model NAME) -o OUT_DIR [--limit N] [--concurrency C] [--resume]")
	data := fs.String("data", "", "ACEBench English data directory (with possible_answer/)")
	cats := fs.String("categories", "normal,special", "categories or groups, comma-separated")
	out := fs.String("o", "", "output directory (responses.jsonl, verdicts.jsonl, summary.json, summary.md)")
	g := addGenFlags(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		return fmt.Errorf("%w: --data and -o are required", errUsage)
	}
	categories, err := acebench.ParseCategories(*cats)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ds, err := acebench.Load(*data, acebench.Present(*data, categories), true)
	if err != nil {
		return err
	}
	gen, _, _, err := g.generator()
	if err != nil {
		return err
	}
	jobs := acebench.Jobs(ds, *g.limit)
	capTokens(jobs, *g.maxNew)
	responses := filepath.Join(*out, "responses.jsonl")
	if err := eval.Run(ctx, jobs, gen, eval.RunOptions{Path: responses, Resume: *g.resume, Label: "acebench", Row: eval.Row}); err != nil {
		return err
	}
	s, err := acebench.ScoreFiles(*data, categories, responses, *out)
	if err != nil {
		return err
	}
	fmt.Print(s.Markdown())
	return nil
}

// capTokens lowers every job's budget to n (n > 0).
func capTokens(jobs []eval.Job, n int) {
	if n <= 0 {
		return
	}
	for i := range jobs {
		jobs[i].MaxTokens = min(jobs[i].MaxTokens, n)
	}
}
