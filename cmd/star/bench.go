package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sort"
	"syscall"
	"time"

	"github.com/star-go/star/model"
)

func init() {
	register(
		command{name: "bench train", summary: "time full training steps (forward, loss, backward, AdamW) on random data", run: runBenchTrain},
		command{name: "bench generate", summary: "time KV-cache decoding of a batch of random prompts", run: runBenchGenerate},
	)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// peakRSS is the process's peak resident memory in MiB (Linux ru_maxrss is KiB).
func peakRSS() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// startCPUProfile profiles the process until the returned function runs.
// Only timed steps are profiled: the warm-up step is mostly graph compilation.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func randomSeqs(rng *rand.Rand, n, length, vocab int) [][]int {
	seqs := make([][]int, n)
	for i := range seqs {
		seqs[i] = make([]int, length)
		for j := range seqs[i] {
			seqs[i][j] = rng.IntN(vocab)
		}
	}
	return seqs
}

func runBenchTrain(ctx context.Context, args []string) error {
	fs := newFlags("bench train", "[--vocab 8192 --hidden 256 --layers 4 --heads 8 --kv-heads 2 --head-dim 32 --intermediate 768 --seq 256 --batch 4 --steps 5]")
	sf := addShapeFlags(fs, 8192, 256, 4, 8, 2, 32, 768)
	seq := fs.Int("seq", 256, "sequence length")
	batch := fs.Int("batch", 4, "sequences per step")
	steps := fs.Int("steps", 5, "timed steps (plus one warm-up step that compiles)")
	backend := fs.String("backend", "", "compute backend: go (default) or xla:cuda, ...")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the timed steps to this file")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *seq < 2 || *batch < 1 || *steps < 1 {
		return fmt.Errorf("%w: need --seq ≥ 2, --batch ≥ 1, --steps ≥ 1", errUsage)
	}
	cfg, err := sf.config()
	if err != nil {
		return err
	}
	m, err := model.NewRandom(cfg, 1)
	if err != nil {
		return err
	}
	if err := useBackend(m, *backend); err != nil {
		return err
	}
	fmt.Printf("model: %d parameters, batch %d × seq %d\n", cfg.NumParams(), *batch, *seq)
	tr := model.NewTrainer(m, model.DefaultAdamW(0.01), model.CosineSchedule(1e-4, *steps+1))
	rng := rand.New(rand.NewPCG(1, 2))
	var rates []float64
	for step := 0; step <= *steps; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		obj := &model.CrossEntropy{Seqs: randomSeqs(rng, *batch, *seq, cfg.VocabSize)}
		if step == 1 && *cpuProfile != "" {
			stop, err := startCPUProfile(*cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
		}
		start := time.Now()
		r, err := tr.Accumulate(obj)
		if err != nil {
			return err
		}
		st, err := tr.Apply()
		if err != nil {
			return err
		}
		dt := time.Since(start).Seconds()
		rate := float64(*batch**seq) / dt
		label := fmt.Sprintf("step %d", step)
		if step == 0 {
			label = "warm-up (compiles)"
		} else {
			rates = append(rates, rate)
		}
		fmt.Printf("%s: loss %.4f grad-norm %.3f lr %.3g %.2fs %.0f tokens/s\n", label, r.Loss, st.GradNorm, st.LR, dt, rate)
	}
	fmt.Printf("peak memory: %.0f MiB\n", peakRSS())
	fmt.Printf("tokens/s: %.0f\n", median(rates))
	return nil
}

func runBenchGenerate(ctx context.Context, args []string) error {
	fs := newFlags("bench generate", "[shape flags | --model DIR] --batch B --prompt-len 128 --new-tokens 128")
	sf := addShapeFlags(fs, 8192, 256, 4, 8, 2, 32, 768)
	dir := fs.String("model", "", "benchmark this checkpoint instead of a random model")
	batch := fs.Int("batch", 1, "prompts decoded together")
	promptLen := fs.Int("prompt-len", 128, "prompt length")
	newTokens := fs.Int("new-tokens", 128, "tokens to generate per prompt")
	backend := fs.String("backend", "", "compute backend: go (default) or xla:cuda, ...")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the timed generation to this file")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *batch < 1 || *promptLen < 1 || *newTokens < 3 {
		return fmt.Errorf("%w: need --batch ≥ 1, --prompt-len ≥ 1, --new-tokens ≥ 3", errUsage)
	}
	var m *model.Model
	var err error
	if *dir != "" {
		m, err = model.Load(*dir)
	} else {
		var cfg *model.Config
		if cfg, err = sf.config(); err == nil {
			m, err = model.NewRandom(cfg, 1)
		}
	}
	if err != nil {
		return err
	}
	if err := useBackend(m, *backend); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(3, 4))
	prompts := randomSeqs(rng, *batch, *promptLen, m.Config.VocabSize)
	opt := model.GenerateOptions{MaxNewTokens: 2, EOS: []int{}}
	// Warm-up: compiles the prefill and the decode-step graphs.
	if _, err := m.Generate(ctx, prompts, opt); err != nil {
		return err
	}
	opt.MaxNewTokens = *newTokens
	stamps := make([]time.Time, 0, *newTokens)
	opt.Progress = func(step int) {
		stamps = append(stamps, time.Now())
		if step%32 == 31 {
			fmt.Fprintf(os.Stderr, "generated %d/%d\n", step+1, *newTokens)
		}
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	start := time.Now()
	if _, err := m.Generate(ctx, prompts, opt); err != nil {
		return err
	}
	prefill := stamps[0].Sub(start).Seconds()
	decode := stamps[len(stamps)-1].Sub(stamps[0]).Seconds()
	n := *batch * (len(stamps) - 1)
	fmt.Printf("prefill: %d tokens in %.2fs (%.0f tokens/s)\n", *batch**promptLen, prefill, float64(*batch**promptLen)/prefill)
	fmt.Printf("decode: %d tokens in %.2fs\n", n, decode)
	fmt.Printf("peak memory: %.0f MiB\n", peakRSS())
	fmt.Printf("tokens/s: %.0f\n", float64(n)/decode)
	return nil
}
