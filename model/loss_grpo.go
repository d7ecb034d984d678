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
}

func (g *GRPO) Key() string           { return fmt.Sprintf("grpo:eps=%g:kl=%g", g.ClipEps, g.KLCoef) }
func (g *GRPO) Sequences() [][]int    { return g.Seqs }
func (g *GRPO) MetricNames() []string { return []string{"policy_loss", "kl", "clip_frac"} }

func (g *GRPO) Inputs(T int) ([]any, error) {
	if g.Mask == nil {
		return nil, fmt.Errorf("grpo: needs an action mask")
	}
	mask, err := padMask(g.Seqs, g.Mask, T)
	if err != nil {
		return nil, err
	}
	old, err := padRows(g.Seqs, g.OldLogprobs, T, "old log-probs")
	if err != nil {
		return nil, err
	}
	ref, err := padRows(g.Seqs, g.RefLogprobs, T, "reference log-probs")
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
