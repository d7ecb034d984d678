// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/vecmath"
)

// Upstream reduces through ReduceOutputIterator.Next per element (about
// 7 ns each). Once unit axes are dropped and neighbours of the same kind
// merged, a transformer's reductions are [rows, reduced] (norms, softmax
// sums, losses) or [reduced, kept] (bias and norm-weight gradients), plus
// [kept, reduced, kept]. These loops visit elements in the same order as
// the iterator, so sums are bit-identical.

// reduceGroups merges the operand's axes into alternating kept/reduced
// groups (outermost first), dropping unit axes.
func reduceGroups(dims, reduceAxes []int) (sizes []int, reduced []bool) {
	isReduced := make([]bool, len(dims))
	for _, a := range reduceAxes {
		isReduced[a] = true
	}
	for axis, d := range dims {
		if d == 1 {
			continue
		}
		if n := len(sizes); n > 0 && reduced[n-1] == isReduced[axis] {
			sizes[n-1] *= d
			continue
		}
		sizes = append(sizes, d)
		reduced = append(reduced, isReduced[axis])
	}
	return sizes, reduced
}

// reduceFast runs float32 ReduceSum and ReduceMax of the shapes above and
// reports whether it did.
func reduceFast(op compute.OpType, in, out any, dims, reduceAxes []int) bool {
	x, ok := in.([]float32)
	if !ok || (op != compute.OpTypeReduceSum && op != compute.OpTypeReduceMax) {
		return false
	}
	y := out.([]float32)
	sizes, reduced := reduceGroups(dims, reduceAxes)
	// Normalise to [outer (kept), mid (reduced), inner (kept)].
	outer, mid, inner := 1, 1, 1
	switch {
	case len(sizes) == 0:
	case len(sizes) == 1 && reduced[0]:
		mid = sizes[0]
	case len(sizes) == 1:
		inner = sizes[0]
	case len(sizes) == 2 && reduced[1]:
		outer, mid = sizes[0], sizes[1]
	case len(sizes) == 2:
		mid, inner = sizes[0], sizes[1]
	case len(sizes) == 3 && reduced[1]:
		outer, mid, inner = sizes[0], sizes[1], sizes[2]
	default:
		return false
	}
	if op == compute.OpTypeReduceSum && inner == 1 && outer >= 8 {
		rowSums8(x, y, outer, mid)
		return true
	}
	init := float32(0)
	if op == compute.OpTypeReduceMax {
		init = dtypes.Float32.LowestValue().(float32)
		if inner == 1 {
			// Row maxima: vecmath.Max folds Go's max bit for bit (patch 13,
			// third_party/PATCHES.md).
			for o := range outer {
				y[o] = max(init, vecmath.Max(x[o*mid:(o+1)*mid]))
			}
			return true
		}
	}
	for o := range outer {
		acc := y[o*inner : (o+1)*inner]
		for i := range acc {
			acc[i] = init
		}
		for m := range mid {
			row := x[(o*mid+m)*inner : (o*mid+m+1)*inner]
			if op == compute.OpTypeReduceSum {
				if inner == 1 {
					// The common case: a contiguous row into one sum.
					s := acc[0]
					for _, v := range x[o*mid : (o+1)*mid] {
						s += v
					}
					acc[0] = s
					break
				}
				for i, v := range row {
					acc[i] += v
				}
			} else {
				if inner == 1 {
					s := acc[0]
					for _, v := range x[o*mid : (o+1)*mid] {
						s = max(s, v)
					}
					acc[0] = s
					break
				}
				for i, v := range row {
					acc[i] = max(acc[i], v)
				}
			}
		}
	}
	return true
}

// rowSums8 sets y[o] = Σ x[o·mid : (o+1)·mid] for o < outer, eight rows at
// a time: each row is still summed in order from +0 (bit-identical to the
// loop above), but eight independent chains hide the latency of the add
// that a single chain waits on (a fifth of a small model's reduction time).
// Patch: third_party/PATCHES.md.
func rowSums8(x, y []float32, outer, mid int) {
	o := 0
	for ; o+8 <= outer; o += 8 {
		r0 := x[o*mid : (o+1)*mid]
		r1 := x[(o+1)*mid:][:len(r0)]
		r2 := x[(o+2)*mid:][:len(r0)]
		r3 := x[(o+3)*mid:][:len(r0)]
		r4 := x[(o+4)*mid:][:len(r0)]
		r5 := x[(o+5)*mid:][:len(r0)]
		r6 := x[(o+6)*mid:][:len(r0)]
		r7 := x[(o+7)*mid:][:len(r0)]
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		for i := range r0 {
			s0 += r0[i]
			s1 += r1[i]
			s2 += r2[i]
			s3 += r3[i]
			s4 += r4[i]
			s5 += r5[i]
			s6 += r6[i]
			s7 += r7[i]
		}
		y[o], y[o+1], y[o+2], y[o+3], y[o+4], y[o+5], y[o+6], y[o+7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
	for ; o < outer; o++ {
		var s float32
		for _, v := range x[o*mid : (o+1)*mid] {
			s += v
		}
		y[o] = s
	}
}
