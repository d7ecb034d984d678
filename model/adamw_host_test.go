package model

import "testing"

// BenchmarkAdamUpdate times the fused AdamW loop on one core (1M elements).
func BenchmarkAdamUpdate(b *testing.B) {
	const n = 1 << 20
	p, m, v, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		p[i], g[i] = 0.01*float32(i%13), 0.001*float32(i%7-3)
	}
	u := adamUpdate{gradScale: 1, decay: 0.999, b1: 0.9, b2: 0.95, stepSize: 1e-3, invBC2: 1.2, eps: 1e-8}
	b.SetBytes(7 * 4 * n)
	for b.Loop() {
		u.apply(p, m, v, g)
	}
}
