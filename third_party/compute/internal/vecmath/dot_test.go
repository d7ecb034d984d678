// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotAxpy checks Dot (the vector path with its scalar tail, and the
// portable dotGo alone) and Axpy against float64, at lengths around the
// 8- and 16-lane blocks.
func TestDotAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 128, 1001} {
		a, b, y := make([]float32, n), make([]float32, n+3), make([]float32, n)
		for i := range a {
			a[i], b[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		var want, scale float64
		for i := range a {
			want += float64(a[i]) * float64(b[i])
			scale += math.Abs(float64(a[i]) * float64(b[i]))
		}
		for name, got := range map[string]float32{"Dot": Dot(a, b), "dotGo": dotGo(a, b[:n])} {
			if math.Abs(float64(got)-want) > 1e-6*(1+scale) {
				t.Errorf("n=%d %s = %v, want %v", n, name, got, want)
			}
		}
		wantY := make([]float64, n)
		for i := range y {
			wantY[i] = float64(y[i]) + 0.75*float64(b[i])
		}
		Axpy(y, 0.75, b)
		for i := range y {
			if math.Abs(float64(y[i])-wantY[i]) > 1e-6*(1+math.Abs(wantY[i])) {
				t.Fatalf("n=%d Axpy[%d] = %v, want %v", n, i, y[i], wantY[i])
			}
		}
	}
}
