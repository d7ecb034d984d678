package model

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// PromptLogprob scores one token of a given sequence: its log-prob given
// the tokens before it, its rank among all tokens (1 = most likely), and
// the k most likely tokens there (vLLM's prompt_logprobs entry).
type PromptLogprob struct {
	Logprob float32
	Rank    int
	Top     []TokenLogprob
}

// scoreChunk is how many positions get their logits at once: the [T,V]
// logits of a long prompt with a large vocabulary would not fit in memory
// (2048 × 151,936 floats is 1.2 GB), so the hidden states are computed
// once and projected to the vocabulary a chunk at a time.
var scoreChunk = 128 // a variable for tests

// PromptLogprobs scores tokens 1..n-1 of seq (len(seq)-1 entries) with the
// top k alternatives at each position.
func (m *Model) PromptLogprobs(seq []int, k int) ([]PromptLogprob, error) {
	if len(seq) < 2 {
		return nil, nil
	}
	b, err := rightPadded([][]int{seq}, bucket(len(seq)), m.Config.VocabSize)
	if err != nil {
		return nil, fmt.Errorf("prompt logprobs: %w", err)
	}
	cos, sin := m.ropeInputs(b.pos)
	out, err := m.run("hidden", func(g *Graph, in []*Node) []*Node {
		P := len(m.Names)
		net := bind(m.Config, m.Names, in[:P])
		h, _ := net.forward(in[P], in[P+1], in[P+2], in[P+3], nil, nil)
		return []*Node{h}
	}, tensors.FromFlatDataAndDimensions(b.ids, b.B, b.T), cos, sin,
		tensors.FromFlatDataAndDimensions(b.mask, b.B, b.T, b.T))
	if err != nil {
		return nil, fmt.Errorf("prompt logprobs: %w", err)
	}
	hidden, err := tensors.CopyFlatData[float32](out[0])
	out[0].FinalizeAll()
	if err != nil {
		return nil, err
	}
	H, V := m.Config.HiddenSize, m.Config.VocabSize
	res := make([]PromptLogprob, 0, len(seq)-1)
	for c0 := 0; c0 < len(seq)-1; c0 += scoreChunk {
		chunk := make([]float32, scoreChunk*H) // positions c0.., zero-padded to a fixed shape
		n := min(scoreChunk, len(seq)-1-c0)
		copy(chunk, hidden[c0*H:(c0+n)*H])
		lo, err := m.run("head", func(g *Graph, in []*Node) []*Node {
			P := len(m.Names)
			return []*Node{bind(m.Config, m.Names, in[:P]).logits(in[P])}
		}, tensors.FromFlatDataAndDimensions(chunk, 1, scoreChunk, H))
		if err != nil {
			return nil, fmt.Errorf("prompt logprobs: %w", err)
		}
		logits, err := tensors.CopyFlatData[float32](lo[0])
		lo[0].FinalizeAll()
		if err != nil {
			return nil, err
		}
		for i := range n {
			res = append(res, scoreRow(logits[i*V:(i+1)*V], seq[c0+i+1], k))
		}
	}
	return res, nil
}

// scoreRow is one position's entry for token tok.
func scoreRow(logits []float32, tok, k int) PromptLogprob {
	lp := logSoftmax(logits)
	rank := 1
	for i, v := range lp {
		// Ties rank by index, as topIndices orders them.
		if v > lp[tok] || (v == lp[tok] && i < tok) {
			rank++
		}
	}
	p := PromptLogprob{Logprob: float32(lp[tok]), Rank: rank}
	if k > 0 {
		for _, i := range topIndices(lp, k) {
			p.Top = append(p.Top, TokenLogprob{ID: i, Logprob: float32(lp[i])})
		}
	}
	return p
}
