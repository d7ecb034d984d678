package model

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// GRPO is the policy loss as OpenRLHF computes it (spec §6.2):
//
//	ratio = exp(logp − old_logp)
//	policy = masked_mean(−min(ratio·A, clip(ratio, 1−ε, 1+ε)·A))
//	kl     = masked_mean(½(logp − ref_logp)²)           (k2 estimator)
//	loss   = policy + KLCoef·kl
//
// with the advantage A of a sequence applied to all its response tokens.
type GRPO struct {
	Seqs        [][]int
	Mask        [][]float32 // action mask, [b][len-1]
	OldLogprobs [][]float32 // behaviour policy log-probs, [b][len-1]
	RefLogprobs [][]float32 // reference (starting) policy log-probs
	Advantages  []float64   // one per sequence, see Advantages
	ClipEps     float64     // 0.2
	KLCoef      float64     // 1e-3
	// From > 0 promises that mask rows 0..From-1 are 0 in every sequence
	// (the prompts are at least From+1 tokens): their logits are skipped
	// (SkipsLogits). The result is the same.
	From int
}

func (g *GRPO) Key() string {
	return fmt.Sprintf("grpo:eps=%g:kl=%g:from=%d", g.ClipEps, g.KLCoef, g.From)
}
func (g *GRPO) LogitsFrom() int       { return g.From }
func (g *GRPO) Sequences() [][]int    { return g.Seqs }
func (g *GRPO) MetricNames() []string { return []string{"policy_loss", "kl", "clip_frac"} }

func (g *GRPO) Inputs(T int) ([]any, error) {
	if g.Mask == nil {
		return nil, fmt.Errorf("grpo: needs an action mask")
	}
	seqs, maskRows, oldRows, refRows := g.Seqs, g.Mask, g.OldLogprobs, g.RefLogprobs
	if g.From > 0 {
		var err error
		if seqs, maskRows, oldRows, refRows, err = g.dropFirst(); err != nil {
			return nil, err
		}
		T -= g.From
	}
	mask, err := padMask(seqs, maskRows, T)
	if err != nil {
		return nil, err
	}
	old, err := padRows(seqs, oldRows, T, "old log-probs")
	if err != nil {
		return nil, err
	}
	ref, err := padRows(seqs, refRows, T, "reference log-probs")
	if err != nil {
		return nil, err
	}
	if len(g.Advantages) != len(g.Seqs) {
		return nil, fmt.Errorf("grpo: %d advantages for %d sequences", len(g.Advantages), len(g.Seqs))
	}
	adv := make([]float32, len(g.Seqs))
	for i, a := range g.Advantages {
		adv[i] = float32(a)
	}
	return []any{mask, old, ref, tensors.FromFlatDataAndDimensions(adv, len(adv))}, nil
}

// dropFirst removes the first From tokens of every sequence and the first
// From entries of its rows, checking that the mask there is 0.
func (g *GRPO) dropFirst() (seqs [][]int, mask, old, ref [][]float32, err error) {
	for b, s := range g.Seqs {
		if len(s) <= g.From+1 || len(g.Mask) != len(g.Seqs) || len(g.Mask[b]) != len(s)-1 {
			return nil, nil, nil, nil, fmt.Errorf("grpo: sequence %d (%d tokens, mask %d) is too short to skip %d rows", b, len(s), lenRow(g.Mask, b), g.From)
		}
		for t, m := range g.Mask[b][:g.From] {
			if m != 0 {
				return nil, nil, nil, nil, fmt.Errorf("grpo: sequence %d has mask 1 at row %d, before From %d", b, t, g.From)
			}
		}
		if lenRow(g.OldLogprobs, b) != len(s)-1 || lenRow(g.RefLogprobs, b) != len(s)-1 {
			return nil, nil, nil, nil, fmt.Errorf("grpo: sequence %d has %d old and %d reference log-probs for %d scored tokens",
				b, lenRow(g.OldLogprobs, b), lenRow(g.RefLogprobs, b), len(s)-1)
		}
		seqs = append(seqs, s[g.From:])
		mask = append(mask, g.Mask[b][g.From:])
		old = append(old, g.OldLogprobs[b][g.From:])
		ref = append(ref, g.RefLogprobs[b][g.From:])
	}
	return seqs, mask, old, ref, nil
}

func (g *GRPO) Loss(logits, ids *Node, extra []*Node) (*Node, []*Node) {
	mask, old, ref, adv := extra[0], extra[1], extra[2], extra[3]
	logp, _ := tokenLogprobs(logits, ids)
	A := BroadcastToDims(InsertAxes(adv, -1), logp.Shape().Dimensions...)
	ratio := Exp(Sub(logp, old))
	surr1 := Mul(ratio, A)
	surr2 := Mul(ClipScalar(ratio, 1-g.ClipEps, 1+g.ClipEps), A)
	policy := maskedMean(Neg(Min(surr1, surr2)), mask)
	d := Sub(logp, ref)
	kl := maskedMean(MulScalar(Square(d), 0.5), mask)
	clipped := ConvertDType(GreaterThan(surr1, surr2), logp.DType())
	return Add(policy, MulScalar(kl, g.KLCoef)), []*Node{policy, kl, maskedMean(clipped, mask)}
}

// Advantages turns rewards (n consecutive samples per prompt) into
// per-sequence advantages: "group_norm" (r − mean)/(std + 1e-9) with the
// unbiased std, or "dr_grpo" r − mean.
func Advantages(rewards []float64, n int, estimator string) ([]float64, error) {
	if n <= 0 || len(rewards)%n != 0 {
		return nil, fmt.Errorf("advantages: %d rewards are not groups of %d", len(rewards), n)
	}
	out := make([]float64, len(rewards))
	for g := 0; g < len(rewards); g += n {
		r := rewards[g : g+n]
		var mean float64
		for _, v := range r {
			mean += v
		}
		mean /= float64(n)
		var ss float64
		for _, v := range r {
			ss += (v - mean) * (v - mean)
		}
		std := 0.0
		if n > 1 {
			std = math.Sqrt(ss / float64(n-1))
		}
		for i, v := range r {
			switch estimator {
			case "group_norm":
				out[g+i] = (v - mean) / (std + 1e-9)
			case "dr_grpo":
				out[g+i] = v - mean
			default:
				return nil, fmt.Errorf("advantages: unknown estimator %q (group_norm, dr_grpo)", estimator)
			}
		}
	}
	return out, nil
}
