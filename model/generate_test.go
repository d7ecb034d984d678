package model

import (
	"context"
	"math"
	"slices"
	"testing"
)

// TestGreedyMatchesReference decodes the reference prompts as one batch
// (lengths 1, 7, 33) with and without the KV cache; both must give the
// reference greedy16 continuations, with matching log-probs.
func TestGreedyMatchesReference(t *testing.T) {
	ref := reference(t)
	for _, v := range variants {
		m := fixtureModel(t, v)
		var prompts [][]int
		for _, s := range ref[v].Sequences {
			prompts = append(prompts, s.IDs)
		}
		opt := GenerateOptions{MaxNewTokens: 16, EOS: []int{}, TopLogprobs: 3}
		cached, err := m.Generate(context.Background(), prompts, opt)
		if err != nil {
			t.Fatal(err)
		}
		opt.NoCache = true
		plain, err := m.Generate(context.Background(), prompts, opt)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range ref[v].Sequences {
			if !slices.Equal(cached[i].Tokens, s.Greedy16) {
				t.Errorf("%s prompt %d cached: got %v want %v", v, i, cached[i].Tokens, s.Greedy16)
			}
			if !slices.Equal(plain[i].Tokens, s.Greedy16) {
				t.Errorf("%s prompt %d uncached: got %v want %v", v, i, plain[i].Tokens, s.Greedy16)
			}
			if cached[i].FinishReason != "length" {
				t.Errorf("finish reason %q", cached[i].FinishReason)
			}
			for j := range cached[i].Logprobs {
				if d := math.Abs(float64(cached[i].Logprobs[j] - plain[i].Logprobs[j])); d > 1e-4 {
					t.Errorf("%s prompt %d step %d: cached logprob %v vs uncached %v", v, i, j, cached[i].Logprobs[j], plain[i].Logprobs[j])
				}
				top := cached[i].Top[j]
				if len(top) != 3 || top[0].ID != cached[i].Tokens[j] || top[0].Logprob != cached[i].Logprobs[j] || top[1].Logprob > top[0].Logprob {
					t.Errorf("%s prompt %d step %d: bad top logprobs %v for token %d", v, i, j, top, cached[i].Tokens[j])
				}
			}
		}
	}
}

// TestGenerateStops checks EOS (from generation_config.json), stop strings and
// sampling reproducibility.
func TestGenerateStops(t *testing.T) {
	m := fixtureModel(t, "tied-f32")
	ctx := context.Background()
	// Prompt [312] greedily gives 86 86 86 692 ...: make 692 an EOS id.
	g, err := m.Generate(ctx, [][]int{{312}}, GenerateOptions{MaxNewTokens: 10, EOS: []int{692}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g[0].Tokens, []int{86, 86, 86, 692}) || g[0].FinishReason != "eos" {
		t.Errorf("eos stop: %v %q", g[0].Tokens, g[0].FinishReason)
	}
	if eos := m.EOSIDs(); !slices.Equal(eos, []int{2}) {
		t.Errorf("EOS ids from generation_config.json: %v", eos)
	}
	decode := func(ids []int) string {
		s := ""
		for _, id := range ids {
			s += map[bool]string{true: "x", false: "y"}[id == 86]
		}
		return s
	}
	g, err = m.Generate(ctx, [][]int{{312}}, GenerateOptions{MaxNewTokens: 10, StopStrings: []string{"xxx"}, Decode: decode})
	if err != nil {
		t.Fatal(err)
	}
	if len(g[0].Tokens) != 3 || g[0].FinishReason != "stop" {
		t.Errorf("stop string: %v %q", g[0].Tokens, g[0].FinishReason)
	}
	// Sampling: same seed → same tokens; different seed → (almost surely) different.
	opt := GenerateOptions{MaxNewTokens: 12, Temperature: 1.5, TopK: 50, TopP: 0.95, Seed: 7, EOS: []int{}}
	a, _ := m.Generate(ctx, [][]int{{5, 17, 42}, {9}}, opt)
	b, _ := m.Generate(ctx, [][]int{{5, 17, 42}, {9}}, opt)
	opt.Seed = 8
	c, _ := m.Generate(ctx, [][]int{{5, 17, 42}, {9}}, opt)
	if !slices.Equal(a[0].Tokens, b[0].Tokens) || !slices.Equal(a[1].Tokens, b[1].Tokens) {
		t.Errorf("same seed, different samples: %v %v", a[0].Tokens, b[0].Tokens)
	}
	if slices.Equal(a[0].Tokens, c[0].Tokens) && slices.Equal(a[1].Tokens, c[1].Tokens) {
		t.Errorf("different seeds, same samples: %v", a[0].Tokens)
	}
}

// TestSamplerFilters checks top-k and top-p restrict the candidates.
func TestSamplerFilters(t *testing.T) {
	logits := []float32{0, 5, 4.9, 1, 4.8, -2}
	seen := map[int]bool{}
	s := newSampler(GenerateOptions{Temperature: 1, TopK: 2, Seed: 1}, 0)
	for range 200 {
		tok, _, _ := s.sample(logits)
		seen[tok] = true
	}
	if len(seen) != 2 || !seen[1] || !seen[2] {
		t.Errorf("top-k 2 sampled %v", seen)
	}
	seen = map[int]bool{}
	s = newSampler(GenerateOptions{Temperature: 1, TopP: 0.5, Seed: 1}, 0)
	for range 200 {
		tok, _, _ := s.sample(logits)
		seen[tok] = true
	}
	// p ≈ .35 .32 .29 ...: top-p 0.5 keeps tokens 1 and 2.
	if len(seen) != 2 || !seen[1] || !seen[2] {
		t.Errorf("top-p 0.5 sampled %v", seen)
	}
}

func TestTopIndices(t *testing.T) {
	vals := []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4}
	got := topIndices(vals, 2) // heap path
	if !slices.Equal(got, []int{5, 12}) {
		t.Errorf("top 2: %v", got)
	}
	if got := topIndices(vals, 5); !slices.Equal(got, []int{5, 12, 14, 11, 18}) {
		t.Errorf("top 5: %v", got)
	}
	if got := topIndices(vals, 20); got[0] != 5 || got[19] != 3 {
		t.Errorf("full sort: %v", got)
	}
}
