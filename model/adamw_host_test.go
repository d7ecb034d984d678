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

// TestForChunks checks that every index is visited once, in chunks that
// match their numbers, for sizes around the chunk length.
func TestForChunks(t *testing.T) {
	for _, n := range []int{0, 1, hostChunk - 1, hostChunk, hostChunk + 1, 5*hostChunk + 7} {
		seen := make([]int32, n)
		forChunks(n, func(c, lo, hi int) {
			if lo != c*hostChunk || hi > n || hi <= lo {
				t.Errorf("n=%d: chunk %d is [%d,%d)", n, c, lo, hi)
			}
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, k := range seen {
			if k != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, k)
			}
		}
	}
}

// TestSumSquares checks the parallel Σx² against a plain float64 sum and
// that it does not depend on scheduling.
func TestSumSquares(t *testing.T) {
	x := make([]float32, 3*hostChunk+11)
	var want float64
	for i := range x {
		x[i] = float32(i%17) - 8.25
		want += float64(x[i]) * float64(x[i])
	}
	got := sumSquares(x)
	if d := got - want; d > 1e-9*want || d < -1e-9*want {
		t.Fatalf("sumSquares = %v, want %v", got, want)
	}
	for range 5 {
		if again := sumSquares(x); again != got {
			t.Fatalf("sumSquares changed between runs: %v then %v", got, again)
		}
	}
}
