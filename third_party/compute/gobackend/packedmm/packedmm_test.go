// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package packedmm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMul checks the parallel split against a float64 product, for the two
// source layouts Pack reads.
func TestMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ M, K, N, workers int }{{1, 256, 768, 2}, {8, 300, 1000, 3}, {3, 64, 17, 8}, {16, 33, 2048, 0}} {
		for _, inOut := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/inOut=%v", c, inOut), func(t *testing.T) {
				w := make([]float32, c.K*c.N)
				x := make([]float32, c.M*c.K)
				for i := range w {
					w[i] = float32(rng.NormFloat64())
				}
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				at := func(k, n int) float32 { return w[n*c.K+k] } // [N,K]
				m := Pack(w, c.K, c.N, 1, c.K)
				if inOut {
					at = func(k, n int) float32 { return w[k*c.N+n] } // [K,N]
					m = Pack(w, c.K, c.N, c.N, 1)
				}
				out := make([]float32, c.M*c.N)
				Mul(out, x, c.M, m, c.workers)
				for i := range c.M {
					for j := range c.N {
						var s float64
						for k := range c.K {
							s += float64(x[i*c.K+k]) * float64(at(k, j))
						}
						if d := math.Abs(float64(out[i*c.N+j]) - s); d > 1e-4*(1+math.Abs(s)) {
							t.Fatalf("out[%d,%d] = %v, want %v", i, j, out[i*c.N+j], s)
						}
					}
				}
			})
		}
	}
}

func BenchmarkMul(b *testing.B) {
	for _, c := range []struct{ M, K, N int }{{1, 256, 768}, {1, 256, 8192}, {8, 256, 768}, {1, 1024, 3072}, {8, 1024, 3072}} {
		w := make([]float32, c.K*c.N)
		x := make([]float32, c.M*c.K)
		out := make([]float32, c.M*c.N)
		m := Pack(w, c.K, c.N, c.N, 1)
		b.Run(fmt.Sprintf("M%d/K%d/N%d", c.M, c.K, c.N), func(b *testing.B) {
			b.SetBytes(int64(4 * c.K * c.N))
			for b.Loop() {
				Mul(out, x, c.M, m, 0)
			}
		})
	}
}
