package model

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// CrossEntropy is next-token cross-entropy, the masked mean of −log p(s[t])
// over the positions of Mask (SFT; also the CE part of CKD mixing).
type CrossEntropy struct {
	Seqs [][]int
	// Mask[b][t-1] = 1 scores token t; nil scores every token after the first.
	Mask [][]float32
}

func (c *CrossEntropy) Key() string           { return "ce" }
func (c *CrossEntropy) Sequences() [][]int    { return c.Seqs }
func (c *CrossEntropy) MetricNames() []string { return nil }

func (c *CrossEntropy) Inputs(T int) ([]any, error) {
	mask, err := padMask(c.Seqs, c.Mask, T)
	if err != nil {
		return nil, err
	}
	return []any{mask}, nil
}

// Loss spells out the gradient instead of differentiating log_softmax: with
// w = mask/Σmask, ∂loss/∂logits = w·(softmax − onehot(next)). Autodiff of
// log_softmax costs several extra passes over the [B,T,V] logits (the
// largest tensor of a training step); here the backward pass is a scaled
// softmax plus a scatter. The value is −Σ w·log p(next) with p from the same
// softmax (floored at the smallest normal float, i.e. at most 87.3 nats per
// token). TestCrossEntropyGradient checks it against autodiff.
func (c *CrossEntropy) Loss(logits, ids *Node, extra []*Node) (*Node, []*Node) {
	mask := extra[0]
	T := ids.Shape().Dimensions[1]
	next := InsertAxes(SliceAxis(ids, 1, AxisRange(1, T)), -1) // [B,T-1,1]
	w := Div(mask, MaxScalar(ReduceAllSum(mask), 1e-12))       // [B,T-1]
	p := StopGradient(Softmax(logits, -1))                     // [B,T-1,V]
	py := Squeeze(gatherLast(p, next), -1)
	value := Neg(ReduceAllSum(Mul(w, Log(MaxScalar(py, 1.1754944e-38)))))
	// surrogate has the loss's gradient: Σ w·(Σ_v p·x − x[next]).
	xy := Squeeze(gatherLast(logits, next), -1)
	expected := ReduceSum(Mul(p, logits), -1)
	surrogate := ReduceAllSum(Mul(StopGradient(w), Sub(expected, xy)))
	return Add(StopGradient(value), Sub(surrogate, StopGradient(surrogate))), nil
}

// padMask lays a per-sequence response mask [b][len-1] out as [B,T-1];
// a nil mask means every scored position of the sequence.
func padMask(seqs [][]int, mask [][]float32, T int) (*tensors.Tensor, error) {
	out := make([]float32, len(seqs)*(T-1))
	for b, s := range seqs {
		n := len(s) - 1
		if mask != nil {
			if len(mask) != len(seqs) || len(mask[b]) != n {
				return nil, fmt.Errorf("mask row %d has %d entries, sequence has %d scored tokens", b, lenRow(mask, b), n)
			}
			copy(out[b*(T-1):], mask[b])
			continue
		}
		for t := range n {
			out[b*(T-1)+t] = 1
		}
	}
	return tensors.FromFlatDataAndDimensions(out, len(seqs), T-1), nil
}

func lenRow[E any](rows [][]E, b int) int {
	if b < len(rows) {
		return len(rows[b])
	}
	return -1
}

// padRows lays per-sequence rows [b][len-1] out as [B,T-1].
func padRows(seqs [][]int, rows [][]float32, T int, what string) (*tensors.Tensor, error) {
	out := make([]float32, len(seqs)*(T-1))
	if len(rows) != len(seqs) {
		return nil, fmt.Errorf("%s: %d rows for %d sequences", what, len(rows), len(seqs))
	}
	for b, s := range seqs {
		if len(rows[b]) != len(s)-1 {
			return nil, fmt.Errorf("%s row %d has %d entries, sequence has %d scored tokens", what, b, len(rows[b]), len(s)-1)
		}
		copy(out[b*(T-1):], rows[b])
	}
	return tensors.FromFlatDataAndDimensions(out, len(seqs), T-1), nil
}
