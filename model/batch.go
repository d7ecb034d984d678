package model

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
)

// maskOff is the additive mask for positions a token may not attend to. A
// large finite value (not -Inf) keeps fully masked padding rows finite.
const maskOff = -1e9

// bucket rounds a length up so that graphs are compiled for a few shapes
// only: 16, 32, 64, 128, 256, then multiples of 128 up to 1024 (padding a
// 300-token prompt to 512 cost a third of the step in the demo), then
// multiples of 512.
func bucket(n int) int {
	switch {
	case n <= 16:
		return 16
	case n > 1024:
		return (n + 511) / 512 * 512
	case n > 256:
		return (n + 127) / 128 * 128
	}
	b := 16
	for b < n {
		b *= 2
	}
	return b
}

// batch is a padded batch of token sequences ready to feed a graph.
type batch struct {
	B, T     int
	ids      []int32   // [B,T], padding = token 0
	pos      [][]int   // [B][T] RoPE positions
	mask     []float32 // [B,T,S] additive attention mask
	lens     []int     // real length of each row
	leftPads []int     // left padding of each row (generation)
}

// rightPadded lays sequences out from position 0 and pads each to T: the
// training / scoring layout. Token t attends to keys 0..t; padding keys are
// never attended by real tokens.
func rightPadded(seqs [][]int, T, vocab int) (*batch, error) {
	b := &batch{B: len(seqs), T: T}
	b.ids = make([]int32, b.B*T)
	b.mask = make([]float32, b.B*T*T)
	for i, s := range seqs {
		if len(s) == 0 || len(s) > T {
			return nil, fmt.Errorf("sequence %d has length %d (must be 1..%d)", i, len(s), T)
		}
		b.lens = append(b.lens, len(s))
		pos := make([]int, T)
		for t := range T {
			pos[t] = t
			if t < len(s) {
				if s[t] < 0 || s[t] >= vocab {
					return nil, fmt.Errorf("sequence %d: token %d at position %d is outside the vocabulary [0,%d)", i, s[t], t, vocab)
				}
				b.ids[i*T+t] = int32(s[t])
			}
			for k := range T {
				if k > t {
					b.mask[(i*T+t)*T+k] = maskOff
				}
			}
		}
		b.pos = append(b.pos, pos)
	}
	return b, nil
}

// ropeInputs returns the cos/sin tensors [B,T,D] of a batch.
func (m *Model) ropeInputs(pos [][]int) (*tensors.Tensor, *tensors.Tensor) {
	c, s := ropeTables(m.Config.RopeTheta, m.Config.HeadDim, pos)
	B, T, D := len(pos), len(pos[0]), m.Config.HeadDim
	return tensors.FromFlatDataAndDimensions(c, B, T, D), tensors.FromFlatDataAndDimensions(s, B, T, D)
}

func tensorFrom(vals []float32, dims []int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(vals, dims...)
}
