// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package matmul

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// packedModes lists the PackedMatrix paths this CPU can run: the portable
// loop always, the assembly kernels where supported (both micro-kernels on
// AVX-512 CPUs, see packedKernelModes).
func packedModes(t testing.TB) map[string]func() {
	saved := packedAsm
	t.Cleanup(func() { packedAsm = saved })
	modes := map[string]func(){"generic": func() { packedAsm = false }}
	for name, set := range packedKernelModes(t) {
		modes[name] = func() { packedAsm = true; set() }
	}
	return modes
}

func TestPackedMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for name, set := range packedModes(t) {
		set()
		for _, M := range []int{1, 2, 5, 6, 7, 8, 13, 16} {
			for _, N := range []int{1, 15, 16, 33, 64, 100} {
				for _, K := range []int{0, 1, 7, 256} {
					t.Run(fmt.Sprintf("%s/M%d/N%d/K%d", name, M, N, K), func(t *testing.T) {
						w := random(K * N) // stored [N,K], as PyTorch weights
						x := random(M * K)
						p := PackMatrix(w, K, N, 1, K)
						want := make([]float64, M*N)
						for m := range M {
							for n := range N {
								for k := range K {
									want[m*N+n] += float64(x[m*K+k]) * float64(w[n*K+k])
								}
							}
						}
						got := make([]float32, M*N)
						for i := range got {
							got[i] = float32(math.NaN()) // every entry must be written
						}
						// Two disjoint panel ranges, as two workers would.
						half := p.Panels() / 2
						p.MulPanels(got, x, M, 0, half)
						p.MulPanels(got, x, M, half, p.Panels())
						for i := range want {
							if d := math.Abs(float64(got[i]) - want[i]); !(d <= 1e-4*(1+math.Abs(want[i]))) {
								t.Fatalf("out[%d,%d] = %v, want %v", i/N, i%N, got[i], want[i])
							}
						}
					})
				}
			}
		}
	}
}
