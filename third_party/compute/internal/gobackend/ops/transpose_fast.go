// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"slices"

	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
)

// The generic transpose walks every element through TransposeIterator.Next,
// about 10 ns per element with the output written at random strides. The
// transposes a transformer's gradient needs are few and simple once unit axes
// are dropped and axes that move together are merged: most keep the last axis
// (a row copy) or swap two axes (a tiled 2D transpose).

// transposeFast transposes in into out when their element type is one it
// knows, and reports whether it did.
func transposeFast(in, out any, dims, perm []int) bool {
	switch in := in.(type) {
	case []float32:
		transposeSimplified(in, out.([]float32), dims, perm)
	case []float64:
		transposeSimplified(in, out.([]float64), dims, perm)
	case []int32:
		transposeSimplified(in, out.([]int32), dims, perm)
	case []int64:
		transposeSimplified(in, out.([]int64), dims, perm)
	case []bfloat16.BFloat16:
		transposeSimplified(in, out.([]bfloat16.BFloat16), dims, perm)
	case []float16.Float16:
		transposeSimplified(in, out.([]float16.Float16), dims, perm)
	default:
		return false
	}
	return true
}

// simplifyTranspose drops unit axes and merges runs of input axes that stay
// adjacent and in order in the output; the result moves the same elements.
func simplifyTranspose(dims, perm []int) (newDims, newPerm []int) {
	// Drop unit axes, renumbering the remaining input axes.
	renumber := make([]int, len(dims))
	var kept []int
	for axis, d := range dims {
		renumber[axis] = -1
		if d != 1 {
			renumber[axis] = len(kept)
			kept = append(kept, d)
		}
	}
	var p []int
	for _, axis := range perm {
		if renumber[axis] >= 0 {
			p = append(p, renumber[axis])
		}
	}
	if len(p) == 0 {
		return nil, nil
	}
	// Group consecutive output positions whose input axes are consecutive.
	var groups [][]int // input axes of each group, in output order
	for i, axis := range p {
		if i > 0 && axis == p[i-1]+1 {
			groups[len(groups)-1] = append(groups[len(groups)-1], axis)
			continue
		}
		groups = append(groups, []int{axis})
	}
	// Groups in input order give the merged input axes.
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return groups[a][0] - groups[b][0] })
	newDims = make([]int, len(groups))
	newPerm = make([]int, len(groups))
	for inputAxis, g := range order {
		size := 1
		for _, axis := range groups[g] {
			size *= kept[axis]
		}
		newDims[inputAxis] = size
		newPerm[g] = inputAxis
	}
	return newDims, newPerm
}

// transposeSimplified writes out[o] = in[i] where output position o has the
// coordinates of i permuted by perm (output axis k is input axis perm[k]).
func transposeSimplified[T any](in, out []T, dims, perm []int) {
	dims, perm = simplifyTranspose(dims, perm)
	rank := len(dims)
	if rank <= 1 {
		copy(out, in)
		return
	}
	inStride := make([]int, rank)
	stride := 1
	for axis := rank - 1; axis >= 0; axis-- {
		inStride[axis] = stride
		stride *= dims[axis]
	}
	outStride := make([]int, rank)
	stride = 1
	for pos := rank - 1; pos >= 0; pos-- {
		outStride[pos] = stride
		stride *= dims[perm[pos]]
	}

	// The input's last axis lands at output position q.
	q := slices.Index(perm, rank-1)
	if q == rank-1 {
		// Rows of the last axis stay contiguous: copy them.
		row := dims[rank-1]
		forEachOuter(dims, perm, inStride, outStride, q, rank-1, func(inBase, outBase int) {
			copy(out[outBase:outBase+row], in[inBase:inBase+row])
		})
		return
	}
	// A 2D transpose of (input axis a → output's last axis) × (input's last
	// axis → output position q), in tiles that stay in L1.
	const tile = 16
	a := perm[rank-1]
	n1, sA := dims[a], inStride[a]
	n2, sQ := dims[rank-1], outStride[q]
	forEachOuter(dims, perm, inStride, outStride, q, rank-1, func(inBase, outBase int) {
		for i0 := 0; i0 < n2; i0 += tile {
			i1 := min(i0+tile, n2)
			for j0 := 0; j0 < n1; j0 += tile {
				j1 := min(j0+tile, n1)
				for i := i0; i < i1; i++ {
					o := out[outBase+i*sQ+j0 : outBase+i*sQ+j1]
					src := inBase + j0*sA + i
					for j := range o {
						o[j] = in[src]
						src += sA
					}
				}
			}
		}
	})
}

// forEachOuter calls fn with the input and output offsets of every
// combination of the output positions other than skip1 and skip2.
func forEachOuter(dims, perm, inStride, outStride []int, skip1, skip2 int, fn func(inBase, outBase int)) {
	type axis struct{ size, in, out int }
	var axes []axis
	for pos := range perm {
		if pos != skip1 && pos != skip2 {
			axes = append(axes, axis{dims[perm[pos]], inStride[perm[pos]], outStride[pos]})
		}
	}
	idx := make([]int, len(axes))
	inBase, outBase := 0, 0
	for {
		fn(inBase, outBase)
		k := len(axes) - 1
		for ; k >= 0; k-- {
			idx[k]++
			inBase += axes[k].in
			outBase += axes[k].out
			if idx[k] < axes[k].size {
				break
			}
			inBase -= axes[k].in * axes[k].size
			outBase -= axes[k].out * axes[k].size
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}
