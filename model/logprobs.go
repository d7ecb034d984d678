package model

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// OpenRLHF's convention: the log-prob of token s[t] comes from the logits at
// position t-1, so a sequence of length T has T-1 scored positions, index
// t-1 ↔ token t, and response ("action") masks are given over those T-1.

// shiftedLogits projects only hidden states 0..T-2, the ones that score
// tokens 1..T-1: cheaper than slicing [B,T,V] logits (and its gradient).
func (q *qwen3) shiftedLogits(h *Node) *Node {
	T := h.Shape().Dimensions[1]
	return q.logits(SliceAxis(h, 1, AxisRange(0, T-1)))
}

// gatherLast picks x[b,t,idx[b,t,k]] for x [B,T,V] and idx [B,T,K] (int32) → [B,T,K],
// with full (b, t, idx) coordinates: indexing a flattened x would need a
// reshape, which the Go backend copies when x has other uses (the logits do).
func gatherLast(x, idx *Node) *Node {
	d := x.Shape().Dimensions
	B, T := d[0], d[1]
	K := idx.Shape().Dimensions[2]
	coord := shapes.Make(dtypes.Int32, B, T, K, 1)
	row := Iota(x.Graph(), coord, 0)
	col := Iota(x.Graph(), coord, 1)
	return Gather(x, Concatenate([]*Node{row, col, InsertAxes(ConvertDType(idx, dtypes.Int32), -1)}, -1))
}

// tokenLogprobs is log p(s[t] | s[<t]) for t = 1..T-1: [B,T-1], from the
// shifted logits [B,T-1,V]; it also returns their log-softmax.
func tokenLogprobs(logits, ids *Node) (logp, ls *Node) {
	T := ids.Shape().Dimensions[1]
	ls = LogSoftmax(logits, -1)
	next := SliceAxis(ids, 1, AxisRange(1, T)) // [B,T-1]
	return Squeeze(gatherLast(ls, InsertAxes(next, -1)), -1), ls
}

// maskedMean is sum(x·m)/sum(m) over the whole batch (OpenRLHF's masked_mean
// with dim=None), guarded against an empty mask.
func maskedMean(x, mask *Node) *Node {
	den := MaxScalar(ReduceAllSum(mask), 1e-12)
	return Div(ReduceAllSum(Mul(x, mask)), den)
}

// TokenLogprobs returns, for each sequence, the log-probs of its tokens 1..n-1
// (len n-1), as a vLLM prompt_logprobs / OpenRLHF action log-prob would.
func (m *Model) TokenLogprobs(seqs [][]int) ([][]float32, error) {
	return m.TokenLogprobsFrom(seqs, 0)
}

// TokenLogprobsFrom is TokenLogprobs with the logits of rows 0..from-1 (a
// prompt's) not computed: those entries are 0. Every sequence must have more
// than from+1 tokens.
func (m *Model) TokenLogprobsFrom(seqs [][]int, from int) ([][]float32, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	maxLen := 0
	for _, s := range seqs {
		if len(s) < 2 || len(s) <= from+1 || from < 0 {
			return nil, fmt.Errorf("token logprobs: a sequence of %d tokens from row %d (need at least 2 tokens and a row to score)", len(s), from)
		}
		maxLen = max(maxLen, len(s))
	}
	b, err := rightPadded(seqs, bucket(maxLen), m.Config.VocabSize)
	if err != nil {
		return nil, err
	}
	cos, sin := m.ropeInputs(b.pos)
	key := "logprobs"
	if from > 0 {
		key = fmt.Sprintf("logprobs:from=%d", from)
	}
	out, err := m.run(key, func(g *Graph, in []*Node) []*Node {
		P := len(m.Names)
		net := bind(m.Config, m.Names, in[:P])
		h, _ := net.forward(in[P], in[P+1], in[P+2], in[P+3], nil, nil)
		ids := in[P]
		if from > 0 {
			T := h.Shape().Dimensions[1]
			h, ids = SliceAxis(h, 1, AxisRange(from, T)), SliceAxis(ids, 1, AxisRange(from, T))
		}
		lp, _ := tokenLogprobs(net.shiftedLogits(h), ids)
		return []*Node{lp}
	}, tensors.FromFlatDataAndDimensions(b.ids, b.B, b.T), cos, sin,
		tensors.FromFlatDataAndDimensions(b.mask, b.B, b.T, b.T))
	if err != nil {
		return nil, err
	}
	flat, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return nil, err
	}
	W := b.T - 1 - from // scored rows per sequence in the output
	res := make([][]float32, b.B)
	for i, n := range b.lens {
		res[i] = make([]float32, n-1)
		copy(res[i][from:], flat[i*W:i*W+n-1-from])
	}
	return res, nil
}

// TopKLogprobs returns, for each sequence and each scored position t-1
// (t = 1..n-1), the model's k most likely tokens and their log-probs: the
// teacher side of CKD when the teacher runs in-process.
func (m *Model) TopKLogprobs(seqs [][]int, k int) (vals [][][]float32, ids [][][]int, err error) {
	logits, err := m.Logits(seqs)
	if err != nil {
		return nil, nil, err
	}
	for _, rows := range logits {
		var vb [][]float32
		var ib [][]int
		for t := 0; t+1 < len(rows); t++ {
			lp := logSoftmax(rows[t])
			var v []float32
			var id []int
			for _, i := range topIndices(lp, k) {
				v = append(v, float32(lp[i]))
				id = append(id, i)
			}
			vb, ib = append(vb, v), append(ib, id)
		}
		vals, ids = append(vals, vb), append(ids, ib)
	}
	return vals, ids, nil
}
