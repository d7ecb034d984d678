// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"fmt"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestBroadcastBinary checks the run-based broadcast against upstream's
// zipped iterator for every op and many broadcast patterns.
func TestBroadcastBinary(t *testing.T) {
	cases := []struct{ lhs, rhs []int }{
		{[]int{4, 8, 16}, []int{4, 8, 1}},
		{[]int{4, 8, 16}, []int{1, 1, 16}},
		{[]int{4, 1, 16}, []int{1, 8, 16}},
		{[]int{4, 8, 1}, []int{1, 8, 16}},
		{[]int{1, 8, 16}, []int{4, 8, 16}},
		{[]int{2, 1, 3, 8}, []int{2, 5, 1, 8}},
		{[]int{6, 1}, []int{1, 7}},
		{[]int{3, 4, 5}, []int{3, 1, 5}},
	}
	for _, c := range cases {
		ls, rs := shapes.Make(dtypes.Float32, c.lhs...), shapes.Make(dtypes.Float32, c.rhs...)
		outDims := make([]int, len(c.lhs))
		for i := range outDims {
			outDims[i] = max(c.lhs[i], c.rhs[i])
		}
		os := shapes.Make(dtypes.Float32, outDims...)
		lhs, rhs := make([]float32, ls.Size()), make([]float32, rs.Size())
		for i := range lhs {
			lhs[i] = float32(i%13) + 1
		}
		for i := range rhs {
			rhs[i] = float32(i%7) + 2
		}
		for op := opAdd; op <= opDiv; op++ {
			t.Run(fmt.Sprintf("%v%v/op%d", c.lhs, c.rhs, op), func(t *testing.T) {
				want := make([]float32, os.Size())
				it := gobackend.NewZippedBroadcastIterator(ls, rs, os)
				for ix := range it.IterFlatIndices() {
					want[ix.TgtFlatIdx] = apply(op, lhs[ix.LHSFlatIdx], rhs[ix.RHSFlatIdx])
				}
				got := make([]float32, os.Size())
				if !broadcastBinary(op, lhs, rhs, got, ls, rs, os) {
					if c.lhs[len(c.lhs)-1] >= 4 && c.rhs[len(c.rhs)-1] >= 4 {
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
