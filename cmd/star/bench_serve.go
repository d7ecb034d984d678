package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/model"
	"github.com/star-go/star/serve"
	"github.com/star-go/star/tokenizer"
)

func init() {
	register(command{name: "bench serve", summary: "load-test star serve on loopback (1/8/32 clients) against the engine's fixed-batch decode", run: runBenchServe})
}

func runBenchServe(ctx context.Context, args []string) error {
	fs := newFlags("bench serve", "(--model DIR | shape flags --tokenizer DIR) [--clients 1,8,32] [--prompt-len 128] [--new-tokens 128] [--rounds 2] [--repeat 3]")
	sf := addShapeFlags(fs, 8192, 256, 4, 8, 2, 32, 768)
	dir := fs.String("model", "", "benchmark this checkpoint instead of a random model")
	tokDir := fs.String("tokenizer", "", "tokenizer and chat template for a random model")
	clientsFlag := fs.String("clients", "1,8,32", "concurrency levels")
	promptLen := fs.Int("prompt-len", 128, "prompt tokens per request")
	newTokens := fs.Int("new-tokens", 128, "completion tokens per request (ignore_eos)")
	rounds := fs.Int("rounds", 2, "requests per client at each level (after one warm-up round)")
	repeat := fs.Int("repeat", 3, "timed runs per level; the best is reported")
	backend := fs.String("backend", "", "compute backend: go (default) or xla:cuda, ...")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the timed load runs to this file")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	var levels []int
	for _, f := range strings.Split(*clientsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("%w: --clients %q: want a list of positive integers", errUsage, *clientsFlag)
		}
		levels = append(levels, n)
	}
	if *promptLen < 1 || *newTokens < 1 || *rounds < 1 || *repeat < 1 {
		return fmt.Errorf("%w: --prompt-len, --new-tokens, --rounds and --repeat must be positive", errUsage)
	}
	var m *model.Model
	var err error
	src := *dir
	if *dir != "" {
		m, err = loadModel(*dir, *backend)
	} else {
		if *tokDir == "" {
			return fmt.Errorf("%w: a random model needs --tokenizer DIR (e.g. ../shared/fixtures/qwen3)", errUsage)
		}
		src = *tokDir
		var cfg *model.Config
		if cfg, err = sf.config(); err == nil {
			if m, err = model.NewRandom(cfg, 1); err == nil {
				err = useBackend(m, *backend)
			}
		}
	}
	if err != nil {
		return err
	}
	tok, err := tokenizer.Load(src)
	if err != nil {
		return err
	}
	tmpl, err := chat.Load(src)
	if err != nil {
		return err
	}
	maxC := 0
	for _, c := range levels {
		maxC = max(maxC, c)
	}
	s, err := serve.New(m, tok, tmpl, serve.Config{Name: "bench", MaxBatch: maxC, MaxQueue: 4 * maxC})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Serve(sctx, ln) }()
	defer func() { stop(); <-done }()

	fmt.Printf("model: %d parameters (vocab %d, hidden %d, %d layers), prompts %d tokens, completions %d tokens\n",
		m.Config.NumParams(), m.Config.VocabSize, m.Config.HiddenSize, m.Config.NumHiddenLayers, *promptLen, *newTokens)
	fmt.Printf("best of %d runs per level, each %d requests per client\n", *repeat, *rounds)
	fmt.Printf("%-8s %10s %12s %14s %10s %10s | %s\n", "clients", "req/s", "out tok/s", "tok/CPU-s", "p50", "p99", "Generate B=clients: tok/s, tok/CPU-s")
	// Throughput per CPU-second of this process is reported next to wall
	// time: on a shared machine it moves much less with other people's load.
	var serveRate, genRate, serveCPU, genCPU = map[int]float64{}, map[int]float64{}, map[int]float64{}, map[int]float64{}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	for _, c := range levels {
		opt := serve.LoadOptions{URL: "http://" + ln.Addr().String(), Model: "bench", Clients: c, Requests: c,
			PromptTokens: *promptLen, MaxTokens: *newTokens, Vocab: m.Config.VocabSize, Seed: uint64(c)}
		if _, err := serve.Load(ctx, opt); err != nil { // warm-up: compiles this batch size's graphs
			return err
		}
		// Best of --repeat runs, serve and Generate alternating: other
		// people's load only ever slows a run down.
		var r serve.LoadResult
		for i := range *repeat {
			opt.Requests, opt.Seed = c**rounds, uint64(c)+1000+uint64(i)
			cpu0 := cpuSeconds()
			ri, err := serve.Load(ctx, opt)
			if err != nil {
				return err
			}
			if cpu := float64(ri.OutputTokens) / (cpuSeconds() - cpu0); cpu > serveCPU[c] {
				serveCPU[c] = cpu
			}
			if ri.TokensPerSecond() > serveRate[c] {
				r, serveRate[c] = ri, ri.TokensPerSecond()
			}
			gen, cpu, err := fixedBatchRate(ctx, m, c, *promptLen, *newTokens, i == 0)
			if err != nil {
				return err
			}
			genRate[c], genCPU[c] = max(genRate[c], gen), max(genCPU[c], cpu)
		}
		gen, cpu := genRate[c], genCPU[c]
		fmt.Printf("%-8d %10.2f %12.1f %14.1f %10s %10s | %.1f, %.1f\n", c, r.RequestsPerSecond(), r.TokensPerSecond(), serveCPU[c],
			r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), gen, cpu)
	}
	base := levels[0]
	for _, c := range levels[1:] {
		sx, gx := serveRate[c]/serveRate[base], genRate[c]/genRate[base]
		fmt.Printf("speed-up %d vs %d clients: serve %.2fx (per CPU-s %.2fx), fixed-batch decode %.2fx (per CPU-s %.2fx); serve/fixed %.0f%%\n", c, base,
			sx, serveCPU[c]/serveCPU[base], gx, genCPU[c]/genCPU[base], 100*sx/gx)
	}
	return nil
}

// cpuSeconds is the user + system CPU time of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// fixedBatchRate is Generate's output tokens per second and per CPU-second
// on a batch of b random prompts (after a warm-up run if asked).
func fixedBatchRate(ctx context.Context, m *model.Model, b, promptLen, newTokens int, warmUp bool) (wall, cpu float64, err error) {
	prompts := randomSeqs(rand.New(rand.NewPCG(uint64(b), 5)), b, promptLen, m.Config.VocabSize)
	opt := model.GenerateOptions{MaxNewTokens: newTokens, EOS: []int{}}
	if warmUp {
		if _, err := m.Generate(ctx, prompts, opt); err != nil {
			return 0, 0, err
		}
	}
	start, cpu0 := time.Now(), cpuSeconds()
	if _, err := m.Generate(ctx, prompts, opt); err != nil {
		return 0, 0, err
	}
	n := float64(b * newTokens)
	return n / time.Since(start).Seconds(), n / (cpuSeconds() - cpu0), nil
}
