// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

package matmul

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func fromBF16(h uint16) float64 { return float64(math.Float32frombits(uint32(h) << 16)) }

func TestToBF16(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{0, 0},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, odd rounds up
		{math.Float32frombits(0x3f808001), 0x3f81},
		{float32(math.Inf(1)), 0x7f80},
	} {
		if got := toBF16(tc.in); got != tc.want {
			t.Errorf("toBF16(%x) = %#x, want %#x", math.Float32bits(tc.in), got, tc.want)
		}
	}
	if got := toBF16(float32(math.NaN())); got&0x7f80 != 0x7f80 || got&0x7f == 0 {
		t.Errorf("toBF16(NaN) = %#x, not a NaN", got)
	}
}

// TestAMXGEMM checks the AMX GEMM against float64 products of the
// bf16-rounded operands (tight: only float32 accumulation differs) and of
// the float32 operands (within bf16 rounding), for every layout and edges of
// every block size.
func TestAMXGEMM(t *testing.T) {
	if !AMXSupported() {
		t.Skip("no AMX-BF16 on this CPU, or the OS refused the tile state")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range []struct{ batch, m, n, k int }{
		{1, 32, 32, 32},
		{1, 16, 16, 16},
		{2, 33, 65, 31},
		{1, 64, 300, 100},
		{3, 70, 47, 257},
		{1, 96, 512, 64},
		{2, 40, 70, 1100}, // three contracting blocks, the last partial
		{1, 64, 96, 1024},
	} {
		for _, lay := range []struct{ lhsT, rhsT bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
			name := fmt.Sprintf("%dx%dx%dx%d/lhsT=%v/rhsT=%v", sz.batch, sz.m, sz.n, sz.k, lay.lhsT, lay.rhsT)
			t.Run(name, func(t *testing.T) {
				m, n, k := sz.m, sz.n, sz.k
				lhs := make([]float32, sz.batch*m*k)
				rhs := make([]float32, sz.batch*k*n)
				for i := range lhs {
					lhs[i] = float32(rng.NormFloat64())
				}
				for i := range rhs {
					rhs[i] = float32(rng.NormFloat64())
				}
				a := StridedMatrix{Data: lhs, BatchStride: m * k, RowStride: k, ColStride: 1}
				if lay.lhsT {
					a.RowStride, a.ColStride = 1, m
				}
				b := StridedMatrix{Data: rhs, BatchStride: k * n, RowStride: n, ColStride: 1}
				if lay.rhsT {
					b.RowStride, b.ColStride = 1, k
				}
				out := make([]float32, sz.batch*m*n)
				for i := range out {
					out[i] = float32(math.NaN()) // must be overwritten
				}
				run := func(task func()) {
					done := make(chan bool)
					for range 3 {
						go func() { task(); done <- true }()
					}
					for range 3 {
						<-done
					}
				}
				AMXGEMM(run, 3, sz.batch, m, n, k, a, b, out)
				var worst, worstRounded float64
				for bi := range sz.batch {
					for i := range m {
						for j := range n {
							var ref, refRounded, mag float64
							for p := range k {
								x := a.Data[bi*a.BatchStride+i*a.RowStride+p*a.ColStride]
								y := b.Data[bi*b.BatchStride+p*b.RowStride+j*b.ColStride]
								ref += float64(x) * float64(y)
								refRounded += fromBF16(toBF16(x)) * fromBF16(toBF16(y))
								mag += math.Abs(float64(x) * float64(y))
							}
							got := float64(out[bi*m*n+i*n+j])
							worst = max(worst, math.Abs(got-ref)/mag)
							worstRounded = max(worstRounded, math.Abs(got-refRounded)/mag)
						}
					}
				}
				// bf16 keeps 8 significant bits: each product is off by at
				// most ~2·2⁻⁹ of its magnitude.
				if worst > 5e-3 || math.IsNaN(worst) {
					t.Errorf("error against float32 operands: %.3g of Σ|a·b|, want < 5e-3", worst)
				}
				if worstRounded > 1e-5 || math.IsNaN(worstRounded) {
					t.Errorf("error against bf16-rounded operands: %.3g of Σ|a·b|, want < 1e-5", worstRounded)
				}
			})
		}
	}
}

// BenchmarkAMXvsSGEMM compares the AMX bf16 GEMM with the float32 GEMM on
// one core, on the shapes of a 0.6B-width training step (512 tokens).
func BenchmarkAMXvsSGEMM(b *testing.B) {
	shapes := []struct {
		name       string
		m, n, k    int
		lhsT, rhsT bool
	}{
		{"fwd_512x3072x1024", 512, 3072, 1024, false, false},
		{"dX_512x1024x3072_rhsT", 512, 1024, 3072, false, true},
		{"dW_1024x3072x512_lhsT", 1024, 3072, 512, true, false},
		{"qkv_512x2048x1024", 512, 2048, 1024, false, false},
	}
	for _, s := range shapes {
		lhs := make([]float32, s.m*s.k)
		rhs := make([]float32, s.k*s.n)
		for i := range lhs {
			lhs[i] = float32(i%13) * 0.1
		}
		for i := range rhs {
			rhs[i] = float32(i%7) * 0.1
		}
		a := StridedMatrix{Data: lhs, BatchStride: s.m * s.k, RowStride: s.k, ColStride: 1}
		if s.lhsT {
			a.RowStride, a.ColStride = 1, s.m
		}
		bm := StridedMatrix{Data: rhs, BatchStride: s.k * s.n, RowStride: s.n, ColStride: 1}
		if s.rhsT {
			bm.RowStride, bm.ColStride = 1, s.k
		}
		out := make([]float32, s.m*s.n)
		flops := 2 * float64(s.m*s.n*s.k)
		for _, impl := range []string{"sgemm", "amx"} {
			if impl == "amx" && !AMXSupported() {
				continue
			}
			b.Run(s.name+"/"+impl, func(b *testing.B) {
				for b.Loop() {
					if impl == "amx" {
						AMXGEMM(nil, 1, 1, s.m, s.n, s.k, a, bm, out)
					} else {
						SGEMM(nil, 1, 1, s.m, s.n, s.k, a, bm, out)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}

// TestAMXGEMMUnderPreemption runs the AMX GEMM on several goroutines while
// another one keeps forcing garbage collections (stop-the-world preemption
// signals land in the middle of tile sequences): every result must equal the
// one computed alone, bit for bit.
func TestAMXGEMMUnderPreemption(t *testing.T) {
	if !AMXSupported() {
		t.Skip("no AMX-BF16 on this CPU, or the OS refused the tile state")
	}
	const m, n, k = 64, 256, 1024
	rng := rand.New(rand.NewPCG(3, 4))
	lhs := make([]float32, m*k)
	rhs := make([]float32, k*n)
	for i := range lhs {
		lhs[i] = float32(rng.NormFloat64())
	}
	for i := range rhs {
		rhs[i] = float32(rng.NormFloat64())
	}
	a := StridedMatrix{Data: lhs, BatchStride: m * k, RowStride: k, ColStride: 1}
	b := StridedMatrix{Data: rhs, BatchStride: k * n, RowStride: n, ColStride: 1}
	want := make([]float32, m*n)
	AMXGEMM(nil, 1, 1, m, n, k, a, b, want)

	stop := make(chan struct{})
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	errs := make(chan string, 4)
	for range 4 {
		go func() {
			out := make([]float32, m*n)
			for range 200 {
				AMXGEMM(nil, 1, 1, m, n, k, a, b, out)
				for i := range out {
					if out[i] != want[i] {
						errs <- fmt.Sprintf("element %d: %v, alone %v", i, out[i], want[i])
						return
					}
				}
			}
			errs <- ""
		}()
	}
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	close(stop)
	<-gcDone
}
