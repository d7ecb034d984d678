package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"github.com/star-go/star/serve"
)

func init() {
	register(command{name: "serve", summary: "OpenAI-compatible server (chat with tools, completions, logprobs) with continuous batching", run: runServe})
}

func runServe(ctx context.Context, args []string) error {
	fs := newFlags("serve", "--model DIR [--addr 127.0.0.1:8080] [--served-model-name NAME] [--max-batch 16] [--max-queue 256] [--max-model-len N] [--api-key KEY] [--max-logprobs 20]")
	dir := fs.String("model", "", "Hugging Face model directory (weights, tokenizer, chat template)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port; :0 picks a free port; loopback unless you say otherwise)")
	name := fs.String("served-model-name", "", "model name clients must send (default: the directory's base name)")
	maxBatch := fs.Int("max-batch", 16, "sequences decoded together")
	maxQueue := fs.Int("max-queue", 256, "sequences waiting for the batch; beyond, requests get 429")
	maxLen := fs.Int("max-model-len", 0, "prompt + completion tokens per sequence (default: max_position_embeddings)")
	apiKey := fs.String("api-key", "", "require Authorization: Bearer KEY (default: $STAR_API_KEY, else none)")
	maxLogprobs := fs.Int("max-logprobs", 20, "largest top_logprobs / logprobs / prompt_logprobs accepted")
	maxN := fs.Int("max-n", 16, "largest n (choices per request)")
	maxBodyMB := fs.Int("max-body-mb", 8, "request body limit in MiB")
	timeout := fs.Duration("timeout", 10*time.Minute, "per-request limit, generation included")
	grace := fs.Duration("shutdown-grace", 30*time.Second, "on SIGINT/SIGTERM, how long running requests may finish")
	backend := fs.String("backend", "", "compute backend (default $STAR_BACKEND or go)")
	quiet := fs.Bool("quiet", false, "no per-request log lines")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	if *dir == "" {
		return fmt.Errorf("%w: --model DIR is required", errUsage)
	}
	if *maxBatch <= 0 || *maxQueue <= 0 || *maxLogprobs < 0 || *maxN <= 0 || *maxBodyMB <= 0 || *timeout <= 0 || *maxLen < 0 {
		return fmt.Errorf("%w: --max-batch, --max-queue, --max-n, --max-body-mb and --timeout must be positive", errUsage)
	}
	key := *apiKey
	if key == "" {
		key = os.Getenv("STAR_API_KEY")
	}
	cfg := serve.Config{Name: *name, MaxBatch: *maxBatch, MaxQueue: *maxQueue, MaxModelLen: *maxLen, APIKey: key,
		MaxLogprobs: *maxLogprobs, MaxN: *maxN, MaxBodyBytes: int64(*maxBodyMB) << 20, Timeout: *timeout, ShutdownGrace: *grace}
	if !*quiet {
		cfg.Log = log.New(os.Stderr, "star serve: ", log.LstdFlags)
	}
	m, err := loadModel(*dir, *backend)
	if err != nil {
		return err
	}
	s, err := serve.OpenModel(m, *dir, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		s.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "star serve: %s on http://%s/v1 (max batch %d, context %d); Ctrl-C stops\n", s.Name(), ln.Addr(), *maxBatch, s.MaxModelLen())
	if err := s.Serve(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "star serve: stopped")
	return nil
}
