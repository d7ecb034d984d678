// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamW checks Update against a float64 AdamW step (to float32
// rounding) and the vector path against the portable one bit for bit.
func TestAdamW(t *testing.T) {
	c := AdamW{GradScale: 0.7, Decay: 0.999, B1: 0.9, B2: 0.95, Step: 1e-3, InvBC2: 1.3, Eps: 1e-8}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 33, 1001} {
		p, m, v, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range p {
			p[i], m[i], g[i] = float32(rng.NormFloat64()), 0.1*float32(rng.NormFloat64()), float32(rng.NormFloat64())
			v[i] = float32(rng.Float64())
		}
		run := func(vector bool) (p2, m2, v2 []float32) {
			saved := hasAVX2
			defer func() { hasAVX2 = saved }()
			hasAVX2 = hasAVX2 && vector
			p2, m2, v2 = append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
			c.Update(p2, m2, v2, g)
			return p2, m2, v2
		}
		pv, mv, vv := run(true)
		pp, mp, vp := run(false)
		for i := range p {
			gr := float64(g[i]) * float64(c.GradScale)
			wm := float64(c.B1)*float64(m[i]) + (1-float64(c.B1))*gr
			wv := float64(c.B2)*float64(v[i]) + (1-float64(c.B2))*gr*gr
			wp := float64(p[i])*float64(c.Decay) - float64(c.Step)*wm/(math.Sqrt(wv)*float64(c.InvBC2)+float64(c.Eps))
			// Each tolerance is float32 rounding of the terms summed.
			sm := math.Abs(float64(c.B1)*float64(m[i])) + math.Abs((1-float64(c.B1))*gr)
			sv := float64(c.B2)*float64(v[i]) + (1-float64(c.B2))*gr*gr
			sp := math.Abs(float64(p[i])) + math.Abs(wp-float64(p[i])*float64(c.Decay))
			for _, f := range []struct {
				name             string
				got, want, scale float64
			}{{"p", float64(pv[i]), wp, sp}, {"m", float64(mv[i]), wm, sm}, {"v", float64(vv[i]), wv, sv}} {
				if math.Abs(f.got-f.want) > 1e-6*f.scale {
					t.Fatalf("n=%d %s[%d] = %v, want %v", n, f.name, i, f.got, f.want)
				}
			}
			if pv[i] != pp[i] || mv[i] != mp[i] || vv[i] != vp[i] {
				t.Fatalf("n=%d [%d]: vector (%v %v %v) != portable (%v %v %v)", n, i, pv[i], mv[i], vv[i], pp[i], mp[i], vp[i])
			}
		}
	}
}

// TestSumSquares checks SumSquares on both paths against a float64 sum.
func TestSumSquares(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, n := range []int{0, 1, 3, 15, 16, 17, 31, 32, 100, 4099} {
			x := make([]float32, n)
			var want float64
			for i := range x {
				x[i] = float32(rng.NormFloat64())
				want += float64(x[i]) * float64(x[i])
			}
			if got := SumSquares(x); math.Abs(got-want) > 1e-12*(want+1) {
				t.Fatalf("n=%d SumSquares = %v, want %v", n, got, want)
			}
		}
	})
}

func BenchmarkAdamW(b *testing.B) {
	const n = 1 << 20
	p, m, v, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		p[i], g[i] = 0.01*float32(i%13), 0.001*float32(i%7-3)
	}
	c := AdamW{GradScale: 1, Decay: 0.999, B1: 0.9, B2: 0.95, Step: 1e-3, InvBC2: 1.2, Eps: 1e-8}
	b.SetBytes(7 * 4 * n)
	for b.Loop() {
		c.Update(p, m, v, g)
	}
}

func BenchmarkSumSquares(b *testing.B) {
	x := make([]float32, 1<<20)
	b.SetBytes(4 << 20)
	for b.Loop() {
		SumSquares(x)
	}
}
