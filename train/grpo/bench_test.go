package grpo

import (
	"bufio"
	"context"
	"encoding/json"
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
