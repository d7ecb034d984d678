// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

package matmul

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
	"golang.org/x/sys/cpu"
)

// naiveStrided is the float64-accumulated reference product.
func naiveStrided(batch, m, n, k int, a, b StridedMatrix) []float32 {
	out := make([]float32, batch*m*n)
	for bi := range batch {
		for i := range m {
			for j := range n {
				var s float64
				for kk := range k {
					s += float64(a.Data[bi*a.BatchStride+i*a.RowStride+kk*a.ColStride]) *
						float64(b.Data[bi*b.BatchStride+kk*b.RowStride+j*b.ColStride])
				}
				out[bi*m*n+i*n+j] = float32(s)
			}
		}
	}
	return out
}

// goRun starts workers plain goroutines, as the backend's pool would.
func goRun(workers int) func(func()) {
	return func(task func()) {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(task)
		}
		wg.Wait()
	}
}

// sgemmKernels lists the micro-kernels this CPU can run (the AVX2 6×16 one,
// and the AVX-512 6×32 one where supported) and selects one for a test.
func sgemmKernels(t testing.TB) map[string]func() {
	saved := sgemmAVX512
	t.Cleanup(func() { sgemmAVX512 = saved })
	ks := map[string]func(){"avx2": func() { sgemmAVX512 = false }}
	if cpu.X86.HasAVX512F {
		ks["avx512"] = func() { sgemmAVX512 = true }
	}
	return ks
}

func TestSGEMM(t *testing.T) {
	if !SGEMMSupported() {
		t.Skip("CPU without AVX2+FMA")
	}
	for name, use := range sgemmKernels(t) {
		t.Run(name, func(t *testing.T) {
			use()
			testSGEMM(t)
		})
	}
}

func testSGEMM(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	// Shapes cover: exact tiles, edges in every direction, several KC slices
	// (accumulation), several NC blocks, and batches.
	shapes := [][4]int{{1, 1, 1, 1}, {1, 7, 17, 3}, {2, 13, 33, 300}, {3, 150, 1030, 513}, {1, 6, 16, 256}, {1, 300, 2100, 40}, {1, 510, 70, 600}, {1, 6, 32, 5}, {2, 7, 48, 9}, {1, 12, 64, 257}}
	for _, s := range shapes {
		batch, m, n, k := s[0], s[1], s[2], s[3]
		for _, lhsT := range []bool{false, true} {
			for _, rhsT := range []bool{false, true} {
				a := StridedMatrix{Data: random(batch * m * k), BatchStride: m * k, RowStride: k, ColStride: 1}
				if lhsT {
					a.RowStride, a.ColStride = 1, m
				}
				b := StridedMatrix{Data: random(batch * n * k), BatchStride: n * k, RowStride: n, ColStride: 1}
				if rhsT {
					b.RowStride, b.ColStride = 1, k
				}
				want := naiveStrided(batch, m, n, k, a, b)
				for _, workers := range []int{1, 2, 5} {
					name := fmt.Sprintf("%v/lhsT=%v/rhsT=%v/workers=%d", s, lhsT, rhsT, workers)
					got := random(batch * m * n) // garbage in the output must not leak through
					SGEMM(goRun(workers), workers, batch, m, n, k, a, b, got)
					for i := range got {
						if math.Abs(float64(got[i]-want[i])) > 1e-5*float64(k)+1e-6 {
							t.Fatalf("%s: out[%d] = %g, want %g", name, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestSGEMMZeroContracting(t *testing.T) {
	out := []float32{1, 2, 3, 4}
	SGEMM(nil, 1, 1, 2, 2, 0, StridedMatrix{}, StridedMatrix{}, out)
	for _, v := range out {
		if v != 0 {
			t.Fatalf("k=0 product must be zero, got %v", out)
		}
	}
}

// BenchmarkSGEMM reports GFLOPS of the assembly kernel and, in the same run,
// of the implementation it replaced (sgemmFallback: upstream's Go-SIMD
// kernel with GOEXPERIMENT=simd, its scalar one without), both on one core,
// on the shapes of a small transformer's training step.
func BenchmarkSGEMM(b *testing.B) {
	backendAny, err := gobackend.New("parallelism=0")
	if err != nil {
		b.Fatal(err)
	}
	backend := backendAny.(*gobackend.Backend)
	shapes := []struct {
		m, n, k int
		rhsT    bool
	}{{1024, 8192, 256, true}, {1024, 768, 256, false}, {1024, 256, 768, false}, {1024, 256, 256, true}}
	for _, s := range shapes {
		lhs := make([]float32, s.m*s.k)
		rhs := make([]float32, s.n*s.k)
		out := make([]float32, s.m*s.n)
		bm := StridedMatrix{Data: rhs, BatchStride: s.n * s.k, RowStride: s.n, ColStride: 1}
		if s.rhsT {
			bm.RowStride, bm.ColStride = 1, s.k
		}
		flops := float64(2 * s.m * s.n * s.k)
		for kname, use := range sgemmKernels(b) {
			b.Run(fmt.Sprintf("%dx%dx%d/rhsT=%v/asm-%s", s.m, s.n, s.k, s.rhsT, kname), func(b *testing.B) {
				use()
				for b.Loop() {
					SGEMM(nil, 1, 1, s.m, s.n, s.k, StridedMatrix{Data: lhs, BatchStride: s.m * s.k, RowStride: s.k, ColStride: 1}, bm, out)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
		layout := dot.LayoutNonTransposed
		if s.rhsT {
			layout = dot.LayoutTransposed
		}
		b.Run(fmt.Sprintf("%dx%dx%d/rhsT=%v/upstream", s.m, s.n, s.k, s.rhsT), func(b *testing.B) {
			for b.Loop() {
				sgemmFallback(backend, layout, lhs, rhs, 1, s.m, s.n, s.k, out)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
