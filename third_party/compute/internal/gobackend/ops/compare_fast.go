// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// Comparisons with broadcasting (logits against a per-row threshold) walked
// upstream's zipped iterator per element; here they run as binary_fast.go's
// runs.

type compareOp int

const (
	cmpEqual compareOp = iota
	cmpNotEqual
	cmpGreaterOrEqual
	cmpGreaterThan
	cmpLessOrEqual
	cmpLessThan
)

// broadcastCompare computes out = lhs op rhs with broadcasting through runs,
// and reports false when the shapes need the generic iterator.
func broadcastCompare[T gobackend.PODNumericConstraints](op compareOp, lhs, rhs []T, out []bool, lhsShape, rhsShape, outShape shapes.Shape) bool {
	p, ok := planBroadcast(lhsShape, rhsShape, outShape)
	if !ok || p.n < 4 {
		return false
	}
	idx := make([]int, len(p.outer))
	lhsAt, rhsAt := 0, 0
	for outAt := 0; outAt < len(out); outAt += p.n {
		o := out[outAt : outAt+p.n]
		var a, b []T
		if p.lhsStep == 1 {
			a = lhs[lhsAt : lhsAt+p.n]
		}
		if p.rhsStep == 1 {
			b = rhs[rhsAt : rhsAt+p.n]
		}
		compareRun(op, o, a, b, lhs[lhsAt], rhs[rhsAt])
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

// compareRun sets o[i] = x op y where x is a[i] (or as when a is nil) and y
// is b[i] (or bs when b is nil).
func compareRun[T gobackend.PODNumericConstraints](op compareOp, o []bool, a, b []T, as, bs T) {
	at := func(v []T, s T, i int) T {
		if v == nil {
			return s
		}
		return v[i]
	}
	switch {
	case a != nil && b != nil:
		a, b = a[:len(o)], b[:len(o)]
		switch op {
		case cmpEqual:
			for i := range o {
				o[i] = a[i] == b[i]
			}
		case cmpNotEqual:
			for i := range o {
				o[i] = a[i] != b[i]
			}
		case cmpGreaterOrEqual:
			for i := range o {
				o[i] = a[i] >= b[i]
			}
		case cmpGreaterThan:
			for i := range o {
				o[i] = a[i] > b[i]
			}
		case cmpLessOrEqual:
			for i := range o {
				o[i] = a[i] <= b[i]
			}
		default:
			for i := range o {
				o[i] = a[i] < b[i]
			}
		}
	case a != nil:
		a = a[:len(o)]
		switch op {
		case cmpEqual:
			for i := range o {
				o[i] = a[i] == bs
			}
		case cmpNotEqual:
			for i := range o {
				o[i] = a[i] != bs
			}
		case cmpGreaterOrEqual:
			for i := range o {
				o[i] = a[i] >= bs
			}
		case cmpGreaterThan:
			for i := range o {
				o[i] = a[i] > bs
			}
		case cmpLessOrEqual:
			for i := range o {
				o[i] = a[i] <= bs
			}
		default:
			for i := range o {
				o[i] = a[i] < bs
			}
		}
	default: // b != nil, or both broadcast (then every i is the same)
		for i := range o {
			x, y := at(a, as, i), at(b, bs, i)
			switch op {
			case cmpEqual:
				o[i] = x == y
			case cmpNotEqual:
				o[i] = x != y
			case cmpGreaterOrEqual:
				o[i] = x >= y
			case cmpGreaterThan:
				o[i] = x > y
			case cmpLessOrEqual:
				o[i] = x <= y
			default:
				o[i] = x < y
			}
		}
	}
}
