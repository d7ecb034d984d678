package model

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// Logits runs the model on each sequence (a batch of different lengths,
// right-padded internally) and returns logits[b][t][v] for every real token.
func (m *Model) Logits(seqs [][]int) ([][][]float32, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	maxLen := 0
	for _, s := range seqs {
		maxLen = max(maxLen, len(s))
	}
	b, err := rightPadded(seqs, bucket(maxLen), m.Config.VocabSize)
	if err != nil {
		return nil, err
	}
	cos, sin := m.ropeInputs(b.pos)
	out, err := m.run("logits", m.logitsGraph,
		tensors.FromFlatDataAndDimensions(b.ids, b.B, b.T), cos, sin,
		tensors.FromFlatDataAndDimensions(b.mask, b.B, b.T, b.T))
	if err != nil {
		return nil, err
	}
	flat, err := tensors.CopyFlatData[float32](out[0])
	out[0].FinalizeAll()
	if err != nil {
		return nil, err
	}
	V := m.Config.VocabSize
	res := make([][][]float32, b.B)
	for i, n := range b.lens {
		res[i] = make([][]float32, n)
		for t := range n {
			res[i][t] = flat[(i*b.T+t)*V : (i*b.T+t+1)*V]
		}
	}
	return res, nil
}

// logitsGraph: params..., ids [B,T], cos, sin [B,T,D], mask [B,T,T] → logits [B,T,V].
func (m *Model) logitsGraph(g *Graph, in []*Node) []*Node {
	P := len(m.Names)
	net := bind(m.Config, m.Names, in[:P])
	h, _ := net.forward(in[P], in[P+1], in[P+2], in[P+3], nil, nil)
	return []*Node{net.logits(h)}
}
