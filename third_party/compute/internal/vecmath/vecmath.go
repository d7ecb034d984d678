// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

// Package vecmath holds float32 loops the Go backend spends much of a
// transformer's step in: exp for softmax and the logistic function,
// elementwise arithmetic, row maxima, and the host AdamW update. On amd64
// with AVX2+FMA they run eight lanes at a time in assembly; elsewhere the
// same computations run one element at a time in Go.
package vecmath

import "math"

// ExpShiftSum sets out[i] = exp(in[i] - shift) and returns Σ out[i]. Every
// in[i] - shift must be ≤ 0 (shift is the maximum, as in softmax); results
// below e^-87.3 are 0, and NaN inputs give 0 (a NaN maximum makes every
// result NaN through the shift, so NaN still propagates through softmax).
func ExpShiftSum(out, in []float32, shift float32) float32 {
	out = out[:len(in)]
	var sum float32
	head := 0
	if hasAVX2 {
		head = len(in) &^ 7
		if head > 0 {
			sum = expShiftSumAVX2(&out[0], &in[0], head, shift)
		}
	}
	for i := head; i < len(in); i++ {
		e := ExpNonPositive(in[i] - shift)
		out[i] = e
		sum += e
	}
	return sum
}

// Sigmoid sets out[i] = 1/(1+exp(-in[i])).
func Sigmoid(out, in []float32) {
	out = out[:len(in)]
	head := 0
	if hasAVX2 {
		head = len(in) &^ 7
		if head > 0 {
			sigmoidAVX2(&out[0], &in[0], head)
		}
	}
	for i := head; i < len(in); i++ {
		x := in[i]
		if x != x {
			out[i] = x
			continue
		}
		t := ExpNonPositive(-float32(math.Abs(float64(x))))
		r := 1 / (1 + t)
		if x >= 0 {
			out[i] = r
		} else {
			out[i] = t * r
		}
	}
}

// ExpNonPositive is Cephes expf for x ≤ 0: 0 below −87.3 (and for NaN).
func ExpNonPositive(x float32) float32 {
	const (
		log2E = 1.44269504088896341
		ln2Hi = 0.693359375
		ln2Lo = -2.12194440e-4
		p7    = 1.9875691500e-4
		p6    = 1.3981999507e-3
		p5    = 8.3334519073e-3
		p4    = 4.1665795894e-2
		p3    = 1.6666665459e-1
		p2    = 5.0000001201e-1
	)
	if !(x >= -87.3) {
		return 0
	}
	z := float32(math.RoundToEven(float64(x * log2E)))
	n := int32(z)
	g := x - z*ln2Hi - z*ln2Lo
	p := (((((p7*g+p6)*g+p5)*g+p4)*g+p3)*g+p2)*(g*g) + g + 1
	return math.Float32frombits(uint32(n+127)<<23) * p
}
