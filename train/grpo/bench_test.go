package grpo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
)

// BenchmarkIteration: one Sim-RL iteration at `star bench`'s model shape:
// 8 prompts × 8 samples = 64 sequences of 128 prompt + 64 completion
// tokens, the builtin reward on a real STAR prompt and label, k2 KL
// against a reference. Reports rollout and training tokens/s and the share
// of each phase.
func BenchmarkIteration(b *testing.B) {
	f, err := os.Open(fixture.Path(b, "fixtures/qwen3/trainset.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	var rec struct{ Inputs, Targets string }
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	sc.Scan()
	f.Close()
	if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
		b.Fatal(err)
	}
	cfgM := model.NewConfig(8192, 256, 4, 8, 2, 32, 768, false)
	pol, err := model.NewRandom(cfgM, 1)
	if err != nil {
		b.Fatal(err)
	}
	ref, _ := model.NewRandom(cfgM, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	var prompts []*Prompt
	for range 64 {
		ids := make([]int, 128)
		for i := range ids {
			ids[i] = 3 + rng.IntN(8000)
		}
		prompts = append(prompts, &Prompt{ID: "p", Text: rec.Inputs, Label: rec.Targets, Tokens: ids})
	}
	cfg := Defaults()
	cfg.RolloutBatch, cfg.MaxNewTokens, cfg.Episodes, cfg.EOS, cfg.Filter = 8, 64, 1000, []int{}, Filter{}
	tr := &Trainer{Cfg: cfg, Policy: pol, Ref: ref, Reward: Builtin{}, Prompts: prompts,
		// The reward sees a real prompt and a label-sized completion.
		Decode: func([]int) string { return rec.Inputs + rec.Targets },
		Opt:    model.NewTrainer(pol, model.DefaultAdamW(0), model.Schedule{LR: 1e-6})}
	if _, err := tr.Iterate(context.Background()); err != nil { // compile
		b.Fatal(err)
	}
	var sum Phases
	var rollTok, trainTok int
	b.ResetTimer()
	for b.Loop() {
		m, err := tr.Iterate(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		s := m.Seconds
		sum.Generate += s.Generate
		sum.Reward += s.Reward
		sum.Ref += s.Ref
		sum.Old += s.Old
		sum.Update += s.Update
		sum.Total += s.Total
		rollTok += m.RolloutTokens
		trainTok += m.TrainTokens
	}
	b.ReportMetric(float64(rollTok)/sum.Generate, "rollout_tok/s")
	b.ReportMetric(float64(trainTok)/sum.Update, "train_tok/s")
	for _, p := range []struct {
		name string
		v    float64
	}{{"generate_%", sum.Generate}, {"reward_%", sum.Reward}, {"ref_%", sum.Ref}, {"old_%", sum.Old}, {"update_%", sum.Update}} {
		b.ReportMetric(100*p.v/sum.Total, p.name)
	}
}

// BenchmarkRollout: generating 8 prompts × 8 samples (64 sequences) at
// `star bench`'s model shape, with fixed batches (model.Generate) and with
// continuous batching (one prefill per prompt). Long prompts run only
// continuously: a fixed batch prefills all 64 rows at once, and its
// [64, heads, T, T] attention does not fit a small machine's memory.
// Reports completion tokens/s.
func BenchmarkRollout(b *testing.B) {
	m, err := model.NewRandom(model.NewConfig(8192, 256, 4, 8, 2, 32, 768, false), 1)
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range []struct{ prompt, gen int }{{128, 64}, {1024, 32}} {
		rng := rand.New(rand.NewPCG(1, 2))
		var prompts []*Prompt
		for range 8 {
			ids := make([]int, shape.prompt)
			for i := range ids {
				ids[i] = 3 + rng.IntN(8000)
			}
			prompts = append(prompts, &Prompt{ID: "p", Tokens: ids})
		}
		for _, continuous := range []bool{false, true} {
			if shape.prompt > 128 && !continuous {
				continue
			}
			s := Sampling{N: 8, MaxNewTokens: shape.gen, Temperature: 1, TopP: 1, EOS: []int{}, GenBatch: 64, Continuous: continuous}
			name := fmt.Sprintf("prompt=%d/new=%d/continuous=%v", shape.prompt, shape.gen, continuous)
			b.Run(name, func(b *testing.B) {
				if _, _, err := rollout(context.Background(), m, prompts, s, 1); err != nil { // compile
					b.Fatal(err)
				}
				tokens := 0
				b.ResetTimer()
				for b.Loop() {
					_, n, err := rollout(context.Background(), m, prompts, s, 1)
					if err != nil {
						b.Fatal(err)
					}
					tokens += n
				}
				b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}
