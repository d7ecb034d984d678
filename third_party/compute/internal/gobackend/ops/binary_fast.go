// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// Broadcasting binary ops upstream walk a zipped iterator per element (about
// 5 ns each). The broadcasts a transformer does — a row times a per-row
// scalar (norms, softmax), a matrix plus a repeated row (weights, biases) —
// are runs: once axes that broadcast alike are merged, the innermost axis is
// either elementwise on both sides or elementwise against one value. These
// loops run those runs directly.

type binaryOp int

const (
	opAdd binaryOp = iota
	opSub
	opMul
	opDiv
)

// broadcastRuns describes out = lhs op rhs as an odometer over outer axes and
// a contiguous inner run of n elements.
type broadcastRuns struct {
	n                  int   // inner run length
	lhsStep, rhsStep   int   // 1 or 0: whether each side advances along the run
	outer              []int // sizes of the outer axes, outermost first
	lhsOuter, rhsOuter []int // strides of each side along the outer axes (0 when broadcast)
}

// planBroadcast merges adjacent axes that broadcast alike; ok is false for
// shapes it does not handle (ranks differ).
func planBroadcast(lhsShape, rhsShape, outShape shapes.Shape) (p broadcastRuns, ok bool) {
	rank := outShape.Rank()
	if lhsShape.Rank() != rank || rhsShape.Rank() != rank {
		return p, false
	}
	type axis struct {
		size     int
		lhs, rhs bool // whether the side has the full axis
	}
	var axes []axis
	for i := range rank {
		size := outShape.Dimensions[i]
		if size == 1 {
			continue
		}
		a := axis{size, lhsShape.Dimensions[i] == size, rhsShape.Dimensions[i] == size}
		if last := len(axes) - 1; last >= 0 && axes[last].lhs == a.lhs && axes[last].rhs == a.rhs {
			axes[last].size *= size
			continue
		}
		axes = append(axes, a)
	}
	if len(axes) == 0 {
		axes = append(axes, axis{1, true, true})
	}
	inner := axes[len(axes)-1]
	p.n = inner.size
	lhsStride, rhsStride := 1, 1
	if inner.lhs {
		p.lhsStep, lhsStride = 1, inner.size
	}
	if inner.rhs {
		p.rhsStep, rhsStride = 1, inner.size
	}
	k := len(axes) - 1
	p.outer = make([]int, k)
	p.lhsOuter = make([]int, k)
	p.rhsOuter = make([]int, k)
	for i := k - 1; i >= 0; i-- {
		a := axes[i]
		p.outer[i] = a.size
		if a.lhs {
			p.lhsOuter[i] = lhsStride
			lhsStride *= a.size
		}
		if a.rhs {
			p.rhsOuter[i] = rhsStride
			rhsStride *= a.size
		}
	}
	return p, true
}

// broadcastBinary computes out = lhs op rhs with broadcasting through runs,
// and reports false when the shapes need the generic iterator.
func broadcastBinary[T gobackend.PODNumericConstraints](op binaryOp, lhs, rhs, out []T, lhsShape, rhsShape, outShape shapes.Shape) bool {
	p, ok := planBroadcast(lhsShape, rhsShape, outShape)
	if !ok || p.n < 4 {
		return false // short runs: the per-run overhead would dominate
	}
	idx := make([]int, len(p.outer))
	lhsAt, rhsAt := 0, 0
	for outAt := 0; outAt < len(out); outAt += p.n {
		o := out[outAt : outAt+p.n]
		switch {
		case p.lhsStep == 1 && p.rhsStep == 1:
			runVV(op, o, lhs[lhsAt:lhsAt+p.n], rhs[rhsAt:rhsAt+p.n])
		case p.lhsStep == 1:
			runVS(op, o, lhs[lhsAt:lhsAt+p.n], rhs[rhsAt])
		case p.rhsStep == 1:
			runSV(op, o, lhs[lhsAt], rhs[rhsAt:rhsAt+p.n])
		default:
			v := apply(op, lhs[lhsAt], rhs[rhsAt])
			for i := range o {
				o[i] = v
			}
		}
		// Advance the outer odometer.
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			lhsAt += p.lhsOuter[k]
			rhsAt += p.rhsOuter[k]
			if idx[k] < p.outer[k] {
				break
			}
			lhsAt -= p.lhsOuter[k] * p.outer[k]
			rhsAt -= p.rhsOuter[k] * p.outer[k]
			idx[k] = 0
		}
	}
	return true
}

func apply[T gobackend.PODNumericConstraints](op binaryOp, a, b T) T {
	switch op {
	case opAdd:
		return a + b
	case opSub:
		return a - b
	case opMul:
		return a * b
	default:
		return a / b
	}
}

// runVV: o = a op b elementwise.
func runVV[T gobackend.PODNumericConstraints](op binaryOp, o, a, b []T) {
	a, b = a[:len(o)], b[:len(o)]
	switch op {
	case opAdd:
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case opSub:
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case opMul:
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case opDiv:
		for i := range o {
			o[i] = a[i] / b[i]
		}
	}
}

// runVS: o = a op s.
func runVS[T gobackend.PODNumericConstraints](op binaryOp, o, a []T, s T) {
	a = a[:len(o)]
	switch op {
	case opAdd:
		for i := range o {
			o[i] = a[i] + s
		}
	case opSub:
		for i := range o {
			o[i] = a[i] - s
		}
	case opMul:
		for i := range o {
			o[i] = a[i] * s
		}
	case opDiv:
		for i := range o {
			o[i] = a[i] / s
		}
	}
}

// runSV: o = s op b.
func runSV[T gobackend.PODNumericConstraints](op binaryOp, o []T, s T, b []T) {
	b = b[:len(o)]
	switch op {
	case opAdd:
		for i := range o {
			o[i] = s + b[i]
		}
	case opSub:
		for i := range o {
			o[i] = s - b[i]
		}
	case opMul:
		for i := range o {
			o[i] = s * b[i]
		}
	case opDiv:
		for i := range o {
			o[i] = s / b[i]
		}
	}
}
