// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// scalar is the reference: one Go float32 operation.
func scalar(op Op, a, b float32) float32 {
	switch op {
	case Add:
		return a + b
	case Sub:
		return a - b
	case Mul:
		return a * b
	default:
		return a / b
	}
}

// same reports bit equality, treating every NaN as equal.
func same(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// values are random normals salted with zeros of both signs, infinities,
// NaN and subnormals.
func values(rng *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -3e-39}
	x := make([]float32, n)
	for i := range x {
		if rng.IntN(10) == 0 {
			x[i] = special[rng.IntN(len(special))]
		} else {
			x[i] = float32(rng.NormFloat64())
		}
	}
	return x
}

// withPaths runs fn with the vector kernels and with the portable loops.
func withPaths(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	saved := hasAVX2
	defer func() { hasAVX2 = saved }()
	t.Run("vector", fn)
	hasAVX2 = false
	t.Run("portable", fn)
}

// TestBinary checks BinaryVV, BinaryVS and BinarySV bit for bit against
// scalar float32 operations, at lengths around the 8- and 32-lane blocks,
// with and without the output aliasing an input.
func TestBinary(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 40, 63, 64, 65, 1003} {
			for op := Add; op <= Div; op++ {
				a, b := values(rng, n), values(rng, n)
				s := float32(rng.NormFloat64())
				check := func(form string, got []float32, want func(i int) float32) {
					t.Helper()
					for i := range got {
						if w := want(i); !same(got[i], w) {
							t.Fatalf("%s op=%d n=%d [%d] = %v, want %v", form, op, n, i, got[i], w)
						}
					}
				}
				o := make([]float32, n)
				BinaryVV(op, o, a, b)
				check("VV", o, func(i int) float32 { return scalar(op, a[i], b[i]) })
				BinaryVS(op, o, a, s)
				check("VS", o, func(i int) float32 { return scalar(op, a[i], s) })
				BinarySV(op, o, s, b)
				check("SV", o, func(i int) float32 { return scalar(op, s, b[i]) })
				alias := append([]float32(nil), a...)
				BinaryVV(op, alias, alias, b)
				check("VV in place", alias, func(i int) float32 { return scalar(op, a[i], b[i]) })
				alias = append(alias[:0], b...)
				BinarySV(op, alias, s, alias)
				check("SV in place", alias, func(i int) float32 { return scalar(op, s, b[i]) })
			}
		}
	})
}

// TestMax checks Max against the builtin, and that a NaN anywhere wins.
func TestMax(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		if m := Max(nil); !math.IsInf(float64(m), -1) {
			t.Errorf("Max(nil) = %v", m)
		}
		for _, n := range []int{1, 7, 8, 9, 31, 32, 33, 40, 41, 255, 256, 1003} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64()) - 100
			}
			want := float32(math.Inf(-1))
			for _, v := range x {
				want = max(want, v)
			}
			if got := Max(x); got != want {
				t.Fatalf("n=%d Max = %v, want %v", n, got, want)
			}
			for _, at := range []int{0, n / 2, n - 1} {
				// Zeros of both signs as the maximum: Go's max gives +0 if
				// either is present.
				negZero := float32(math.Copysign(0, -1))
				for _, zeros := range [][2]float32{{negZero, negZero}, {negZero, 0}, {0, negZero}} {
					y := append([]float32(nil), x...)
					y[at], y[n-1-at] = zeros[0], zeros[1]
					want := float32(math.Inf(-1))
					for _, v := range y {
						want = max(want, v)
					}
					if got := Max(y); math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("n=%d zeros %v at %d: Max = %v (bits %#x), want bits %#x", n, zeros, at, got, math.Float32bits(got), math.Float32bits(want))
					}
				}
				y := append([]float32(nil), x...)
				y[at] = float32(math.NaN())
				if got := Max(y); got == got {
					t.Fatalf("n=%d NaN at %d: Max = %v", n, at, got)
				}
			}
		}
	})
}

func BenchmarkBinaryVV(b *testing.B) {
	x, y, o := make([]float32, 1<<16), make([]float32, 1<<16), make([]float32, 1<<16)
	for i := range x {
		x[i], y[i] = float32(i), 1.5
	}
	b.SetBytes(12 << 16)
	for b.Loop() {
		BinaryVV(Mul, o, x, y)
	}
}

func BenchmarkBinaryVVLarge(b *testing.B) {
	const n = 1024 * 768
	x, y, o := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], y[i] = float32(i), 1.5
	}
	b.SetBytes(12 * n)
	for b.Loop() {
		BinaryVV(Mul, o, x, y)
	}
}
