// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestBroadcastCompare checks the run-based broadcast comparisons against
// upstream's zipped iterator for every comparison, with ties and NaN.
func TestBroadcastCompare(t *testing.T) {
	cases := []struct{ lhs, rhs []int }{
		{[]int{4, 8, 16}, []int{4, 8, 1}},
		{[]int{4, 8, 1}, []int{4, 8, 16}},
		{[]int{4, 1, 16}, []int{1, 8, 16}},
		{[]int{2, 1, 3, 8}, []int{2, 5, 1, 8}},
		{[]int{6, 1}, []int{1, 7}},
	}
	ops := []struct {
		op compareOp
		fn func(a, b float32) bool
	}{
		{cmpEqual, func(a, b float32) bool { return a == b }},
		{cmpNotEqual, func(a, b float32) bool { return a != b }},
		{cmpGreaterOrEqual, func(a, b float32) bool { return a >= b }},
		{cmpGreaterThan, func(a, b float32) bool { return a > b }},
		{cmpLessOrEqual, func(a, b float32) bool { return a <= b }},
		{cmpLessThan, func(a, b float32) bool { return a < b }},
	}
	for _, c := range cases {
		ls, rs := shapes.Make(dtypes.Float32, c.lhs...), shapes.Make(dtypes.Float32, c.rhs...)
		outDims := make([]int, len(c.lhs))
		for i := range outDims {
			outDims[i] = max(c.lhs[i], c.rhs[i])
		}
		os := shapes.Make(dtypes.Bool, outDims...)
		lhs, rhs := make([]float32, ls.Size()), make([]float32, rs.Size())
		for i := range lhs {
			lhs[i] = float32(i % 5)
		}
		for i := range rhs {
			rhs[i] = float32(i % 3)
		}
		lhs[1], rhs[len(rhs)-1] = float32(math.NaN()), float32(math.NaN())
		for _, o := range ops {
			t.Run(fmt.Sprintf("%v%v/op%d", c.lhs, c.rhs, o.op), func(t *testing.T) {
				want := make([]bool, os.Size())
				it := gobackend.NewZippedBroadcastIterator(ls, rs, os)
				for ix := range it.IterFlatIndices() {
					want[ix.TgtFlatIdx] = o.fn(lhs[ix.LHSFlatIdx], rhs[ix.RHSFlatIdx])
				}
				got := make([]bool, os.Size())
				if !broadcastCompare(o.op, lhs, rhs, got, ls, rs, os) {
					if c.lhs[len(c.lhs)-1] >= 4 || c.rhs[len(c.rhs)-1] >= 4 {
						t.Fatal("not handled")
					}
					return
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
					}
				}
			})
		}
	}
}
