// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package fusedops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxLastAxis32 checks rows against a float64 softmax, on one and
// several workers, with −1e9 masks and −Inf entries.
func TestSoftmaxLastAxis32(t *testing.T) {
	const rows, n = 300, 257
	in := make([]float32, rows*n)
	for i := range in {
		in[i] = float32(rand.NormFloat64() * 5)
		if i%17 == 0 {
			in[i] = -1e9
		}
		if i%101 == 0 {
			in[i] = float32(math.Inf(-1))
		}
	}
	out := make([]float32, len(in))
	softmaxLastAxis32(nil, in, out, n)
	for r := range rows {
		row := in[r*n : (r+1)*n]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		for i, v := range row {
			want := math.Exp(float64(v)-m) / sum
			if got := float64(out[r*n+i]); math.Abs(got-want) > 1e-5*want+1e-12 {
				t.Fatalf("row %d col %d: %g, want %g", r, i, got, want)
			}
		}
	}
}
