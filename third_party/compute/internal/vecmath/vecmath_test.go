// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

func inputs(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rand.NormFloat64() * 20)
	}
	special := []float32{0, -0.0, 1e-30, -1e-30, 87, -87, 88.5, -88.5, 200, -200, -1e9,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	copy(x, special)
	return x
}

// TestExpShiftSum checks both the vector and the scalar paths (lengths that
// are and are not multiples of 8) against math.Exp.
func TestExpShiftSum(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 13, 64, 1001} {
		in := inputs(n)
		shift := float32(math.Inf(-1))
		for _, v := range in {
			if v == v && !math.IsInf(float64(v), 1) {
				shift = max(shift, v)
			}
		}
		out := make([]float32, n)
		sum := ExpShiftSum(out, in, shift)
		var want64 float64
		for i, v := range in {
			x := float64(v) - float64(shift)
			if v != v || x > 0 {
				continue // outside the contract (NaN, +Inf)
			}
			want := math.Exp(float64(v - shift))
			if float32(x) < -87.3 {
				want = 0
			}
			want64 += want
			if got := float64(out[i]); math.Abs(got-want) > 2e-7*want {
				t.Fatalf("n=%d: exp(%g) = %g, want %g", n, x, got, want)
			}
		}
		if n > 0 && math.Abs(float64(sum)-want64) > 1e-5*want64 {
			t.Errorf("n=%d: sum %g, want %g", n, sum, want64)
		}
	}
}

func TestSigmoid(t *testing.T) {
	for _, n := range []int{1, 8, 15, 1000} {
		in := inputs(n)
		out := make([]float32, n)
		Sigmoid(out, in)
		for i, v := range in {
			if v != v {
				if out[i] == out[i] {
					t.Fatalf("sigmoid(NaN) = %g", out[i])
				}
				continue
			}
			want := 1 / (1 + math.Exp(-float64(v)))
			if got := float64(out[i]); math.Abs(got-want) > 3e-7*want+1e-38 {
				t.Fatalf("n=%d: sigmoid(%g) = %g, want %g", n, v, got, want)
			}
		}
	}
}

func BenchmarkExpShiftSum(b *testing.B) {
	in, out := inputs(8192), make([]float32, 8192)
	for i := range in {
		in[i] = -float32(i%97) / 7
	}
	b.SetBytes(4 * 8192)
	for b.Loop() {
		ExpShiftSum(out, in, 0)
	}
}
