package grpo

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/star-go/star/model"
)

// Prompt is one training prompt: the chat-templated text ending in the
// assistant turn (and "<think>"), its label (the ground truth, STAR's
// `targets`) and its token ids.
type Prompt struct {
	ID     string
	Text   string
	Label  string
	Tokens []int
}

// Sample is one completion of a prompt.
type Sample struct {
	Tokens   []int     // completion ids (EOS included when it ended on one)
	Logprobs []float32 // log p of each completion token at generation
	Finish   string    // "eos" or "length"
	Score    Score
}

// Group is a prompt with its n samples.
type Group struct {
	Prompt  *Prompt
	Samples []Sample
}

// Sampling configures rollout generation.
type Sampling struct {
	N            int     `json:"n_samples"` // samples per prompt
	MaxNewTokens int     `json:"max_new_tokens"`
	Temperature  float64 `json:"temperature"`
	TopP         float64 `json:"top_p"`
	EOS          []int   `json:"eos"` // ids that end a completion
	// GenBatch is the most sequences generated together (0: 64).
	GenBatch int `json:"gen_batch"`
	// Continuous decodes with continuous batching (model.Batcher): a
	// finished row takes the next sequence at once, and the n samples of a
	// prompt share one prefill. Off: fixed batches of GenBatch rows with
	// model.Generate, each running until its longest row ends.
	Continuous bool `json:"continuous"`
}

// rollout generates s.N samples of every prompt, in chunks of GenBatch
// sequences; chunk k samples with seed mix(seed, k). Prompts are generated
// shortest first (less left padding) and returned in the given order.
func rollout(ctx context.Context, gen *model.Model, prompts []*Prompt, s Sampling, seed uint64) ([]Group, int, error) {
	if s.Continuous {
		return rolloutContinuous(ctx, gen, prompts, s, seed)
	}
	order := make([]int, len(prompts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(prompts[a].Tokens) - len(prompts[b].Tokens) })
	type row struct{ group, sample int }
	var rows []row
	for _, g := range order {
		for j := range s.N {
			rows = append(rows, row{g, j})
		}
	}
	bs := s.GenBatch
	if bs <= 0 {
		bs = 64
	}
	groups := make([]Group, len(prompts))
	for i, p := range prompts {
		groups[i] = Group{Prompt: p, Samples: make([]Sample, s.N)}
	}
	tokens := 0
	for k, lo := 0, 0; lo < len(rows); k, lo = k+1, lo+bs {
		chunk := rows[lo:min(lo+bs, len(rows))]
		ids := make([][]int, len(chunk))
		for i, r := range chunk {
			ids[i] = prompts[r.group].Tokens
		}
		out, err := gen.Generate(ctx, ids, model.GenerateOptions{
			MaxNewTokens: s.MaxNewTokens, Temperature: s.Temperature, TopP: s.TopP,
			Seed: mix(seed, uint64(k)), EOS: s.EOS,
		})
		if err != nil {
			return nil, 0, fmt.Errorf("generate: %w", err)
		}
		for i, r := range chunk {
			o := out[i]
			groups[r.group].Samples[r.sample] = Sample{Tokens: o.Tokens, Logprobs: o.Logprobs, Finish: o.FinishReason}
			tokens += len(o.Tokens)
		}
	}
	return groups, tokens, nil
}

// rolloutContinuous is rollout with continuous batching. Every group is
// queued from the decoding goroutine before it admits any (Batcher.Do), so
// which rows run together depends only on when earlier ones end: the
// rollout is as reproducible as the batched one. Group i samples with seed
// mix(seed, i), its sample j from the stream (that seed, j).
func rolloutContinuous(ctx context.Context, m *model.Model, prompts []*Prompt, s Sampling, seed uint64) ([]Group, int, error) {
	bs := s.GenBatch
	if bs <= 0 {
		bs = 64
	}
	order := make([]int, len(prompts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(prompts[a].Tokens) - len(prompts[b].Tokens) })
	b := m.NewBatcher(model.BatcherOptions{MaxBatch: bs, MaxQueue: len(prompts)*s.N + 1, HostStep: true})
	defer b.Close()
	seqs := make([][]*model.Sequence, len(prompts))
	err := b.Do(ctx, func(*model.Model) error {
		for k, i := range order {
			ss, err := b.Submit(ctx, prompts[i].Tokens, s.N, model.GenerateOptions{
				MaxNewTokens: s.MaxNewTokens, Temperature: s.Temperature, TopP: s.TopP,
				Seed: mix(seed, uint64(k)), EOS: s.EOS,
			})
			if err != nil {
				return fmt.Errorf("prompt %s: %w", prompts[i].ID, err)
			}
			seqs[i] = ss
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("generate: %w", err)
	}
	groups := make([]Group, len(prompts))
	tokens := 0
	for i, p := range prompts {
		groups[i] = Group{Prompt: p, Samples: make([]Sample, s.N)}
		for j, sq := range seqs[i] {
			g, err := sq.Wait(ctx) // err: also how the sequence ended
			if err != nil {
				return nil, 0, fmt.Errorf("generate: prompt %s: %w", p.ID, err)
			}
			groups[i].Samples[j] = Sample{Tokens: g.Tokens, Logprobs: g.Logprobs, Finish: g.FinishReason}
			tokens += len(g.Tokens)
		}
	}
	return groups, tokens, nil
}

// mix derives an independent 64-bit seed from a seed and a counter
// (splitmix64 finaliser).
func mix(seed, k uint64) uint64 {
	z := seed + 0x9e3779b97f4a7c15*(k+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Filter is dynamic filtering (DAPO-style, as STAR configures OpenRLHF): a
// group is kept only if Low < mean(scores) < High and its scores are not all
// equal. The zero value (Off) keeps every group.
type Filter struct {
	On   bool    `json:"on"`
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// DefaultFilter is STAR's 0.01 < mean < 0.99.
var DefaultFilter = Filter{On: true, Low: 0.01, High: 0.99}

// Why a group was dropped.
const (
	DropTooHard  = "too_hard"  // mean(scores) ≤ Low
	DropTooEasy  = "too_easy"  // mean(scores) ≥ High
	DropNoSpread = "no_spread" // all scores equal
)

// Reason returns "" when the group is kept, else why it is dropped.
func (f Filter) Reason(scores []float64) string {
	if !f.On || len(scores) == 0 {
		return ""
	}
	mean, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for _, s := range scores {
		mean += s
		lo, hi = min(lo, s), max(hi, s)
	}
	mean /= float64(len(scores))
	switch {
	case mean <= f.Low:
		return DropTooHard
	case mean >= f.High:
		return DropTooEasy
	case hi-lo <= 0:
		return DropNoSpread
	}
	return ""
}

// filterScores are the scores a group's filter decision uses.
func (g *Group) filterScores() []float64 {
	out := make([]float64, len(g.Samples))
	for i, s := range g.Samples {
		out[i] = s.Score.Filter
	}
	return out
}
