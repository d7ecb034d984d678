// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/workerspool"
	"github.com/gomlx/compute/shapes"
)

// TestBinaryFloat32 checks the vectorised, chunked float32 binary ops bit
// for bit against upstream's zipped iterator: same shapes, a scalar on
// either side, broadcast runs, outputs large enough to be split across
// workers (one run cut into pieces, and many runs per chunk), and the
// output aliasing an input, with and without a worker pool.
func TestBinaryFloat32(t *testing.T) {
	big := binaryMinParallel + 3*binaryChunk/2 + 5 // several chunks and a ragged end
	cases := []struct{ lhs, rhs []int }{
		{[]int{3, 5}, []int{3, 5}},
		{[]int{big}, []int{big}},
		{[]int{big}, []int{1}},
		{[]int{1}, []int{big}},
		{[]int{}, []int{7, 9}},
		{[]int{4, 8, 16}, []int{4, 8, 1}},
		{[]int{4, 1, 16}, []int{1, 8, 16}},
		{[]int{2, 1, 3, 8}, []int{2, 5, 1, 8}},
		{[]int{64, 40, 33}, []int{64, 40, 1}},    // many short runs, vector × scalar
		{[]int{1, 700, 128}, []int{3, 700, 128}}, // runs of a whole row block, split over chunks
		{[]int{300, 257}, []int{1, 257}},
		{[]int{4, 8, 2}, []int{4, 8, 1}}, // runs too short: generic path
	}
	backends := map[string]*gobackend.Backend{"serial": nil, "workers": {Workers: workerspool.New()}}
	for _, c := range cases {
		ls, rs := shapes.Make(dtypes.Float32, c.lhs...), shapes.Make(dtypes.Float32, c.rhs...)
		os := ls
		if ls.Size() == 1 || (rs.Rank() == ls.Rank() && rs.Size() > ls.Size()) {
			os = rs
		}
		if rs.Rank() == ls.Rank() && ls.Size() > 1 && rs.Size() > 1 {
			dims := make([]int, ls.Rank())
			for i := range dims {
				dims[i] = max(c.lhs[i], c.rhs[i])
			}
			os = shapes.Make(dtypes.Float32, dims...)
		}
		lhs, rhs := make([]float32, ls.Size()), make([]float32, rs.Size())
		for i := range lhs {
			lhs[i] = float32(i%13) - 6.5
		}
		for i := range rhs {
			rhs[i] = float32(i%7) + 0.25
		}
		if len(rhs) > 3 {
			rhs[3] = float32(math.NaN())
		}
		for op := opAdd; op <= opDiv; op++ {
			want := make([]float32, os.Size())
			switch {
			case len(rhs) == 1:
				for i := range want {
					want[i] = apply(op, lhs[i], rhs[0])
				}
			case len(lhs) == 1:
				for i := range want {
					want[i] = apply(op, lhs[0], rhs[i])
				}
			default:
				it := gobackend.NewZippedBroadcastIterator(ls, rs, os)
				for ix := range it.IterFlatIndices() {
					want[ix.TgtFlatIdx] = apply(op, lhs[ix.LHSFlatIdx], rhs[ix.RHSFlatIdx])
				}
			}
			for name, backend := range backends {
				t.Run(fmt.Sprintf("%v%v/op%d/%s", c.lhs, c.rhs, op, name), func(t *testing.T) {
					l := &gobackend.Buffer{RawShape: ls, Flat: append([]float32(nil), lhs...)}
					r := &gobackend.Buffer{RawShape: rs, Flat: append([]float32(nil), rhs...)}
					// The new output first: the in-place one overwrites lhs.
					outs := []*gobackend.Buffer{{RawShape: os, Flat: make([]float32, os.Size())}}
					if ls.Equal(os) {
						outs = append(outs, l)
					}
					for k, out := range outs {
						oname := []string{"new output", "lhs in place"}[k]
						if !binaryFloat32(backend, op, l, r, out) {
							if c.lhs[len(c.lhs)-1] >= 8 {
								t.Fatalf("%s: not handled", oname)
							}
							return
						}
						got := out.Flat.([]float32)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
								t.Fatalf("%s: out[%d] = %v, want %v", oname, i, got[i], want[i])
							}
						}
					}
				})
			}
		}
	}
}
