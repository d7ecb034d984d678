// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package vecmath

// Dot is Σ a[i]·b[i] over len(a) (b at least as long).
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	head := 0
	var s float32
	if hasAVX2 {
		head = len(a) &^ 7
		if head > 0 {
			s = dotAVX2(&a[0], &b[0], head)
		}
	}
	return s + dotGo(a[head:], b[head:])
}

// Axpy sets y[i] += a·x[i] over len(y) (x at least as long).
func Axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	head := 0
	if hasAVX2 {
		head = len(y) &^ 7
		if head > 0 {
			axpyAVX2(&y[0], a, &x[0], head)
		}
	}
	for i := head; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// dotGo is the portable dot product, four partial sums.
func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
