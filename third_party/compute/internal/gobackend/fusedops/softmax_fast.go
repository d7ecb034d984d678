// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package fusedops

import (
	"math"
	"sync/atomic"

	"github.com/gomlx/compute/internal/gobackend"
)

// Upstream's softmax calls exp through a function value (no inlining) and
// indexes with a stride even when the axis is the last one: about 12 ns per
// element, and on one core. Softmax over the last axis (attention scores, a
// vocabulary) is rows of contiguous values: this version inlines exp and
// splits the rows across the backend's workers.

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
	out = out[:len(in)]
	m := float32(math.Inf(-1))
	for _, v := range in {
		m = max(m, v)
	}
	var sum float32
	for i, v := range in {
		e := expNonPositive32(v - m)
		out[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range out {
		out[i] *= inv
	}
}

// expNonPositive32 is fastmath.Exp32 (Cephes expf) for x ≤ 0, written to be
// inlined: rounding by integer conversion instead of math.Floor, and no
// overflow branch (softmax arguments are x − max ≤ 0). Below −87.3 the
// result would be subnormal; it returns 0, as Exp32 does.
func expNonPositive32(x float32) float32 {
	const (
		log2E = 1.44269504088896341
		ln2Hi = 0.693359375
		ln2Lo = -2.12194440e-4
		p7    = 1.9875691500e-4
		p6    = 1.3981999507e-3
		p5    = 8.3334519073e-3
		p4    = 4.1665795894e-2
		p3    = 1.6666665459e-1
		p2    = 5.0000001201e-1
	)
	if !(x >= -87.3) { // also catches NaN and −Inf
		if x != x {
			return x
		}
		return 0
	}
	n := int32(x*log2E - 0.5) // round to nearest for x ≤ 0 (conversion truncates toward 0)
	z := float32(n)
	g := x - z*ln2Hi - z*ln2Lo
	p := (((((p7*g+p6)*g+p5)*g+p4)*g+p3)*g+p2)*(g*g) + g + 1
	return math.Float32frombits(uint32(n+127)<<23) * p
}
