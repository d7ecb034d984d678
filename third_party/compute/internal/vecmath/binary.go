// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package vecmath

import "math"

// Op is an elementwise float32 arithmetic operation.
type Op int

const (
	Add Op = iota
	Sub
	Mul
	Div
)

// BinaryVV sets o[i] = a[i] op b[i] over len(o) (a and b at least as long).
// o may alias a or b.
func BinaryVV(op Op, o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	head := 0
	if hasAVX2 {
		head = len(o) &^ 7
		if head > 0 {
			vvAVX2[op](&o[0], &a[0], &b[0], head)
		}
	}
	o, a, b = o[head:], a[head:], b[head:]
	switch op {
	case Add:
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case Sub:
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case Mul:
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case Div:
		for i := range o {
			o[i] = a[i] / b[i]
		}
	}
}

// BinaryVS sets o[i] = a[i] op s over len(o). o may alias a.
func BinaryVS(op Op, o, a []float32, s float32) {
	a = a[:len(o)]
	head := 0
	if hasAVX2 {
		head = len(o) &^ 7
		if head > 0 {
			vsAVX2[op](&o[0], &a[0], s, head)
		}
	}
	o, a = o[head:], a[head:]
	switch op {
	case Add:
		for i := range o {
			o[i] = a[i] + s
		}
	case Sub:
		for i := range o {
			o[i] = a[i] - s
		}
	case Mul:
		for i := range o {
			o[i] = a[i] * s
		}
	case Div:
		for i := range o {
			o[i] = a[i] / s
		}
	}
}

// BinarySV sets o[i] = s op b[i] over len(o). o may alias b.
func BinarySV(op Op, o []float32, s float32, b []float32) {
	switch op {
	case Add, Mul: // commutative: bit-identical either way round
		BinaryVS(op, o, b, s)
		return
	}
	b = b[:len(o)]
	head := 0
	if hasAVX2 {
		head = len(o) &^ 7
		if head > 0 {
			if op == Sub {
				subSVAVX2(&o[0], s, &b[0], head)
			} else {
				divSVAVX2(&o[0], s, &b[0], head)
			}
		}
	}
	o, b = o[head:], b[head:]
	if op == Sub {
		for i := range o {
			o[i] = s - b[i]
		}
		return
	}
	for i := range o {
		o[i] = s / b[i]
	}
}

// Max returns the largest element of x, NaN if any element is NaN, and −Inf
// for an empty x: the result of folding Go's max over x, bit for bit.
func Max(x []float32) float32 {
	m := float32(math.Inf(-1))
	head := 0
	if hasAVX2 {
		head = len(x) &^ 7
		if head > 0 {
			m = maxAVX2(&x[0], head)
		}
	}
	for _, v := range x[head:] {
		m = max(m, v)
	}
	if m == 0 && head > 0 {
		// VMAXPS keeps either zero of a tie; Go's max prefers +0.
		m = float32(math.Copysign(0, -1))
		for _, v := range x {
			if math.Float32bits(v) == 0 {
				return 0
			}
		}
	}
	return m
}

var (
	vvAVX2 = [...]func(o, a, b *float32, n int){addVVAVX2, subVVAVX2, mulVVAVX2, divVVAVX2}
	vsAVX2 = [...]func(o, a *float32, s float32, n int){addVSAVX2, subVSAVX2, mulVSAVX2, divVSAVX2}
)
