package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/rollout"
	"github.com/star-go/star/tokenizer"
)

func init() {
	register(command{name: "rollout", summary: "teacher rollout (CKD data): n completions per record from an endpoint or an in-process teacher, validated and deduplicated", run: runRollout})
}

func runRollout(ctx context.Context, args []string) error {
	fs := newFlags("rollout", "IN.jsonl -o OUT.jsonl (--endpoint URL [--served-model NAME] | --teacher DIR) --model DIR [-n 8] "+
		"[--temperature 1.0] [--top-p 1.0] [--top-k -1] [--max-tokens 2048] [--max-attempts 3] [--concurrency 16] [--resume] [--rejects FILE]")
	out := fs.String("o", "", "output JSONL (appended to with --resume)")
	url := fs.String("endpoint", "", "OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (star serve, vLLM, SGLang)")
	served := fs.String("served-model", "", "model name to request (default: the server's first model)")
	apiKey := fs.String("api-key", os.Getenv("OPENAI_API_KEY"), "bearer token for the endpoint (default $OPENAI_API_KEY)")
	teacher := fs.String("teacher", "", "run this teacher checkpoint in process instead of an endpoint")
	backend := fs.String("backend", "", "with --teacher: compute backend (go, xla:cuda, ...)")
	modelDir := fs.String("model", "", "directory with the chat template (and tokenizer) to render prompts with (default: --teacher)")
	n := fs.Int("n", 8, "completions per record")
	temp := fs.Float64("temperature", 1.0, "sampling temperature")
	topP := fs.Float64("top-p", 1.0, "nucleus sampling mass")
	topK := fs.Int("top-k", -1, "sample among the k most likely tokens (-1: all)")
	maxTokens := fs.Int("max-tokens", 2048, "maximum tokens per completion")
	seed := fs.Int64("seed", 0, "sampling seed: record i uses seed+i (0: the server's choice; in process, 0 is a seed too)")
	attempts := fs.Int("max-attempts", 3, "tries per request (retrying connection errors, timeouts, 429 and 5xx)")
	timeout := fs.Duration("timeout", 10*time.Minute, "time limit of one request")
	concurrency := fs.Int("concurrency", 16, "records in flight at once (endpoint)")
	resume := fs.Bool("resume", false, "continue an interrupted run: append to -o, skipping ids already there")
	rejects := fs.String("rejects", "", "write records with no valid completion (each completion's reason) to this JSONL file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1 || *out == "":
		fs.Usage()
		return fmt.Errorf("%w: need one input file and -o OUT", errUsage)
	case (*url == "") == (*teacher == ""):
		return fmt.Errorf("%w: give exactly one of --endpoint URL and --teacher DIR", errUsage)
	case *n <= 0 || *maxTokens <= 0 || *temp < 0 || *topP <= 0 || *topP > 1 || *attempts <= 0 || *concurrency <= 0:
		return fmt.Errorf("%w: need -n > 0, --max-tokens > 0, --temperature ≥ 0, 0 < --top-p ≤ 1, --max-attempts > 0, --concurrency > 0", errUsage)
	}
	if *modelDir == "" {
		*modelDir = *teacher
	}
	if *modelDir == "" {
		return fmt.Errorf("%w: --model DIR (the chat template) is required with --endpoint", errUsage)
	}
	tmpl, err := chat.Load(*modelDir)
	if err != nil {
		return err
	}
	sampling := rollout.Sampling{Temperature: *temp, TopP: *topP, TopK: *topK, MaxTokens: *maxTokens, Seed: *seed}
	cfg := rollout.Config{In: pos[0], Out: *out, Rejects: *rejects, Template: tmpl, N: *n, Concurrency: *concurrency, Resume: *resume}
	if *url != "" {
		client := &endpoint.Client{BaseURL: *url, APIKey: *apiKey, Model: *served, MaxAttempts: *attempts,
			Timeout: *timeout, Concurrency: *concurrency}
		if client.Model == "" {
			ids, err := client.Models(ctx)
			if err != nil {
				return fmt.Errorf("--served-model not given and the server's models are unknown: %w", err)
			}
			if len(ids) == 0 {
				return fmt.Errorf("%s serves no model", *url)
			}
			client.Model = ids[0]
		}
		cfg.Gen = &rollout.Endpoint{Client: client, Sampling: sampling}
	} else {
		m, err := loadModel(*teacher, *backend)
		if err != nil {
			return err
		}
		tok, err := tokenizer.Load(*teacher)
		if err != nil {
			return err
		}
		cfg.Gen = &rollout.Engine{Model: m, Tokenizer: tok, Sampling: sampling}
		cfg.Concurrency = 1
	}
	start := time.Now()
	sum, err := rollout.Run(ctx, cfg)
	if sum != nil {
		el := time.Since(start)
		fmt.Fprintf(os.Stderr, "rollout: %s; %s, %.1f rec/s\n", sum, el.Round(time.Millisecond), float64(sum.Records)/el.Seconds())
		if len(sum.Discarded) > 0 {
			fmt.Fprintf(os.Stderr, "rollout: invalid completions by reason:\n%s", rollout.Reasons(sum.Discarded))
		}
		if len(sum.RejectReasons) > 0 {
			fmt.Fprintf(os.Stderr, "rollout: rejected records by reason:\n%s", rollout.Reasons(sum.RejectReasons))
			if *rejects != "" {
				fmt.Fprintf(os.Stderr, "rollout: rejected records with each completion's reason are in %s\n", *rejects)
			}
		}
	}
	return err
}
