// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestReduceFast compares the fast reductions with upstream's iterator,
// bit for bit, on every subset of axes of a few shapes.
func TestReduceFast(t *testing.T) {
	for _, dims := range [][]int{{7}, {3, 5}, {4, 1, 6}, {2, 3, 4}, {3, 1, 4, 5}, {19, 13}, {9, 2, 7}} {
		n := 1
		for _, d := range dims {
			n *= d
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = rand.Float32()*2 - 1
		}
		for mask := 1; mask < 1<<len(dims); mask++ {
			var axes, outDims []int
			for a, d := range dims {
				if mask&(1<<a) != 0 {
					axes = append(axes, a)
				} else {
					outDims = append(outDims, d)
				}
			}
			for _, op := range []compute.OpType{compute.OpTypeReduceSum, compute.OpTypeReduceMax} {
				t.Run(fmt.Sprintf("%v/%v/%s", dims, axes, op), func(t *testing.T) {
					size := shapes.Make(dtypes.Float32, outDims...).Size()
					got := make([]float32, size)
					if !reduceFast(op, x, got, dims, axes) {
						// Only [R,K,R…] and longer alternations are left to the iterator.
						if sizes, reduced := reduceGroups(dims, axes); len(sizes) <= 2 || (len(sizes) == 3 && !reduced[0]) {
							t.Fatalf("pattern %v (reduced %v) not handled", sizes, reduced)
						}
						return
					}
					in := &gobackend.Buffer{Flat: x, RawShape: shapes.Make(dtypes.Float32, dims...)}
					want := &gobackend.Buffer{Flat: make([]float32, size), RawShape: shapes.Make(dtypes.Float32, outDims...)}
					it := NewReduceOutputIterator(dims, axes)
					var err error
					if op == compute.OpTypeReduceSum {
						err = execReduceSumGeneric[float32](in, want, it, dtypes.Float32)
					} else {
						err = execReduceMaxGeneric[float32](in, want, it, dtypes.Float32)
					}
					if err != nil {
						t.Fatal(err)
					}
					for i, w := range want.Flat.([]float32) {
						if got[i] != w {
							t.Fatalf("out[%d] = %v, want %v", i, got[i], w)
						}
					}
				})
			}
		}
	}
}
