package model

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestHostDecodeMatchesGraph decodes a left-padded batch with the host step
// and with the graph step (STAR_HOST_DECODE=0): same tokens, log-probs
// within 1e-4. The model has attention biases (random, not HF's zeros), GQA
// and an untied head, which the fixture models do not all cover.
func TestHostDecodeMatchesGraph(t *testing.T) {
	for _, tie := range []bool{false, true} {
		cfg := NewConfig(300, 64, 2, 4, 2, 16, 96, tie)
		cfg.AttentionBias = true
		m, err := NewRandom(cfg, 7)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		for _, n := range m.Names {
			if !strings.HasSuffix(n, ".bias") && !strings.HasSuffix(n, "norm.weight") {
				continue
			}
			dims := m.Params[n].Shape().Dimensions
			v := make([]float32, dims[0])
			for i := range v {
				v[i] = float32(rng.NormFloat64() * 0.5)
				if strings.HasSuffix(n, "norm.weight") {
					v[i] += 1
				}
			}
			m.Params[n] = tensors.FromFlatDataAndDimensions(v, dims...)
		}
		if !m.useHostDecode() {
			t.Skip("the host step needs the Go backend")
		}
		prompts := [][]int{{5, 17, 42, 7, 99}, {3}, {250, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}}
		opt := GenerateOptions{MaxNewTokens: 20, EOS: []int{}, TopLogprobs: 2}
		host, err := m.Generate(context.Background(), prompts, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(HostDecodeEnv, "0")
		graph, err := m.Generate(context.Background(), prompts, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(HostDecodeEnv, "1")
		for i := range prompts {
			if !slices.Equal(host[i].Tokens, graph[i].Tokens) {
				t.Errorf("tie=%v prompt %d: host %v, graph %v", tie, i, host[i].Tokens, graph[i].Tokens)
				continue
			}
			for j := range host[i].Logprobs {
				if d := math.Abs(float64(host[i].Logprobs[j] - graph[i].Logprobs[j])); d > 1e-4 {
					t.Errorf("tie=%v prompt %d step %d: host logprob %v, graph %v", tie, i, j, host[i].Logprobs[j], graph[i].Logprobs[j])
				}
			}
		}
	}
}

// TestGreedyLogprob: greedy sampling's shortcut (argmax and a vectorised
// log Σ exp) gives logSoftmax's token and log-prob.
func TestGreedyLogprob(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	for _, V := range []int{1, 7, 513, 8192, 151936} {
		logits := make([]float32, V)
		for i := range logits {
			logits[i] = float32(rng.NormFloat64() * 4)
		}
		tok, lp, _ := newSampler(GenerateOptions{}, 0).sample(logits)
		ref := logSoftmax(logits)
		best := 0
		for i := range ref {
			if ref[i] > ref[best] {
				best = i
			}
		}
		if tok != best || math.Abs(float64(lp)-ref[best]) > 1e-6 {
			t.Errorf("V=%d: token %d log-prob %v, want %d %v", V, tok, lp, best, ref[best])
		}
	}
}

// TestBatcherHostStep: a Batcher with HostStep decodes the reference
// prompts to the fixture's greedy continuations with Generate's log-probs,
// and sequences that join a running batch (growing it and its cache) and
// leave it decode what they decode alone.
func TestBatcherHostStep(t *testing.T) {
	ref := reference(t)
	ctx := context.Background()
	for _, v := range variants {
		m := fixtureModel(t, v)
		if !m.useHostDecode() {
			t.Skip("the host step needs the Go backend")
		}
		b := m.NewBatcher(BatcherOptions{MaxBatch: 4, HostStep: true})
		var prompts [][]int
		for _, s := range ref[v].Sequences {
			prompts = append(prompts, s.IDs)
		}
		opt := GenerateOptions{MaxNewTokens: 16, EOS: []int{}, TopLogprobs: 3}
		want, err := m.Generate(ctx, prompts, opt)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []*Sequence
		for i, p := range prompts {
			if i > 0 { // join a running batch
				waitTokens(t, seqs[0], 2*i)
			}
			s, err := b.Submit(ctx, p, 1, opt)
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, s[0])
		}
		// One that leaves early, and a long one that outgrows the cache bucket.
		short, err := b.Submit(ctx, []int{9}, 1, GenerateOptions{MaxNewTokens: 3, EOS: []int{}})
		if err != nil {
			t.Fatal(err)
		}
		long, err := b.Submit(ctx, prompts[0], 1, GenerateOptions{MaxNewTokens: 70, EOS: []int{}})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range ref[v].Sequences {
			g := wait(t, seqs[i])
			if !slices.Equal(g.Tokens, s.Greedy16) || !slices.Equal(g.Tokens, want[i].Tokens) {
				t.Errorf("%s prompt %d: got %v want %v", v, i, g.Tokens, s.Greedy16)
			}
			for j := range g.Logprobs {
				if d := math.Abs(float64(g.Logprobs[j] - want[i].Logprobs[j])); d > 1e-4 {
					t.Errorf("%s prompt %d step %d: logprob %v, Generate %v", v, i, j, g.Logprobs[j], want[i].Logprobs[j])
				}
			}
		}
		gs, gl := wait(t, short[0]), wait(t, long[0])
		b.Close()
		alone, err := m.Generate(ctx, [][]int{{9}, prompts[0]}, GenerateOptions{MaxNewTokens: 70, EOS: []int{}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gs.Tokens, alone[0].Tokens[:3]) || !slices.Equal(gl.Tokens, alone[1].Tokens) {
			t.Errorf("%s: short %v long %v, alone %v %v", v, gs.Tokens, gl.Tokens, alone[0].Tokens[:3], alone[1].Tokens)
		}
	}
}
