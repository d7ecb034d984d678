// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package fusedops

import (
	"sync/atomic"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/vecmath"
)

// Upstream's softmax calls exp through a function value (no inlining) and
// indexes with a stride even when the axis is the last one: about 12 ns per
// element, and on one core. Softmax over the last axis (attention scores, a
// vocabulary) is rows of contiguous values: this version runs exp eight
// lanes at a time (internal/vecmath) and splits the rows across the
// backend's workers.

// softmaxMinParallel is the element count below which one goroutine does it.
const softmaxMinParallel = 1 << 16

// softmaxLastAxis32 computes softmax over rows of n contiguous values.
func softmaxLastAxis32(backend *gobackend.Backend, in, out []float32, n int) {
	rows := len(in) / n
	workers := 1
	if backend != nil && backend.Workers != nil && len(in) >= softmaxMinParallel {
		workers = min(backend.Workers.AdjustedMaxParallelism(), rows)
	}
	if workers <= 1 {
		for r := range rows {
			softmaxRow32(in[r*n:(r+1)*n], out[r*n:(r+1)*n])
		}
		return
	}
	// Chunks of rows taken by whichever worker is free.
	chunk := max(1, rows/(4*workers))
	var next atomic.Int64
	backend.Workers.Saturate(func() {
		for {
			r0 := int(next.Add(int64(chunk))) - chunk
			if r0 >= rows {
				return
			}
			for r := r0; r < min(r0+chunk, rows); r++ {
				softmaxRow32(in[r*n:(r+1)*n], out[r*n:(r+1)*n])
			}
		}
	})
}

func softmaxRow32(in, out []float32) {
	m := vecmath.Max(in) // NaN propagates: every exp below is then NaN-shifted
	inv := 1 / vecmath.ExpShiftSum(out, in, m)
	if m != m {
		inv = m
	}
	vecmath.BinaryVS(vecmath.Mul, out[:len(in)], out, inv)
}
