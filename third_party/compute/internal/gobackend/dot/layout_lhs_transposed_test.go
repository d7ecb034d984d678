// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package dot

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
)

func TestLHSTransposedLayout(t *testing.T) {
	f32 := func(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
	cases := []struct {
		name           string
		lhs, rhs       shapes.Shape
		lc, lb, rc, rb []int
		want           Layout
	}{
		{"weight gradient [K,M]·[K,N]", f32(1024, 768), f32(1024, 256), []int{0}, nil, []int{0}, nil, LayoutLHSTransposed},
		{"[K,M]·[N,K]", f32(1024, 768), f32(256, 1024), []int{0}, nil, []int{1}, nil, LayoutBothTransposed},
		{"batched [b,K,M]·[b,K,N]", f32(8, 1024, 256), f32(8, 1024, 32), []int{1}, []int{0}, []int{1}, []int{0}, LayoutLHSTransposed},
		{"lhs contracting last is not ours", f32(768, 1024), f32(1024, 256), []int{1}, nil, []int{0}, nil, LayoutIncompatible},
		{"batch not leading", f32(1024, 8, 256), f32(8, 1024, 32), []int{0}, []int{1}, []int{1}, []int{0}, LayoutIncompatible},
		{"two contracting axes", f32(4, 256, 768), f32(4, 256, 256), []int{0, 1}, nil, []int{0, 1}, nil, LayoutIncompatible},
	}
	for _, c := range cases {
		if got := lhsTransposedLayout(c.lhs, c.lc, c.lb, c.rhs, c.rc, c.rb); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}
