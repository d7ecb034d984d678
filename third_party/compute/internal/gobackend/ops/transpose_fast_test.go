// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"fmt"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
)

// TestTransposeFast checks the fast paths against the upstream iterator on
// every permutation of several shapes, unit axes included.
func TestTransposeFast(t *testing.T) {
	for _, dims := range [][]int{{5}, {3, 7}, {1, 4, 1}, {2, 3, 4}, {4, 1, 33, 17}, {2, 3, 1, 5, 7}, {8, 1024, 32}} {
		n := 1
		for _, d := range dims {
			n *= d
		}
		in := make([]float32, n)
		for i := range in {
			in[i] = float32(i)
		}
		for _, perm := range permutations(len(dims)) {
			t.Run(fmt.Sprintf("%v/%v", dims, perm), func(t *testing.T) {
				want := make([]float32, n)
				it := NewTransposeIterator(shapes.Make(dtypes.Float32, dims...), perm)
				for _, v := range in {
					want[it.Next()] = v
				}
				got := make([]float32, n)
				if !transposeFast(in, got, dims, perm) {
					t.Fatal("float32 not handled")
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

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var all [][]int
	for _, p := range permutations(n - 1) {
		for pos := 0; pos <= len(p); pos++ {
			q := append(append(append([]int{}, p[:pos]...), n-1), p[pos:]...)
			all = append(all, q)
		}
	}
	return all
}

func BenchmarkTranspose(b *testing.B) {
	dims, perm := []int{4, 256, 8, 32}, []int{0, 2, 1, 3}
	n := 4 * 256 * 8 * 32
	in, out := make([]float32, n), make([]float32, n)
	b.Run("iterator", func(b *testing.B) {
		for b.Loop() {
			it := NewTransposeIterator(shapes.Make(dtypes.Float32, dims...), perm)
			for _, v := range in {
				out[it.Next()] = v
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			transposeFast(in, out, dims, perm)
		}
	})
	dims2, perm2 := []int{1024, 768}, []int{1, 0}
	in2, out2 := make([]float32, 1024*768), make([]float32, 1024*768)
	b.Run("2d/iterator", func(b *testing.B) {
		for b.Loop() {
			it := NewTransposeIterator(shapes.Make(dtypes.Float32, dims2...), perm2)
			for _, v := range in2 {
				out2[it.Next()] = v
			}
		}
	})
	b.Run("2d/fast", func(b *testing.B) {
		for b.Loop() {
			transposeFast(in2, out2, dims2, perm2)
		}
	})
}
