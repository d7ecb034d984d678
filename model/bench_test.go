package model

import (
	"context"
	"math/rand/v2"
	"testing"
)

// The benchmark shape is `star bench`'s default small Qwen3.
func benchModel(b *testing.B) *Model {
	m, err := NewRandom(NewConfig(8192, 256, 4, 8, 2, 32, 768, false), 1)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func randSeqs(n, length, vocab int) [][]int {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]int, n)
	for i := range out {
		for range length {
			out[i] = append(out[i], rng.IntN(vocab))
		}
	}
	return out
}

// BenchmarkTrainStep: forward, CE loss, backward and AdamW on 4×256 tokens.
func BenchmarkTrainStep(b *testing.B) {
	m := benchModel(b)
	tr := NewTrainer(m, DefaultAdamW(0.01), Schedule{LR: 1e-4})
	obj := &CrossEntropy{Seqs: randSeqs(4, 256, 8192)}
	step := func() {
		if _, err := tr.Accumulate(obj); err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Apply(); err != nil {
			b.Fatal(err)
		}
	}
	step() // compile
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(4*256*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func benchDecode(b *testing.B, batch int) {
	m := benchModel(b)
	prompts := randSeqs(batch, 128, 8192)
	opt := GenerateOptions{MaxNewTokens: 32, EOS: []int{}}
	if _, err := m.Generate(context.Background(), prompts, opt); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Generate(context.Background(), prompts, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*32*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkGenerate: 128-token prompts, 32 new tokens (prefill included).
func BenchmarkGenerateBatch1(b *testing.B) { benchDecode(b, 1) }
func BenchmarkGenerateBatch8(b *testing.B) { benchDecode(b, 8) }
