// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64 && goexperiment.simd

package matmul

import (
	"simd/archsimd"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
)

// sgemmFallback is the implementation the assembly kernel took over from:
// upstream's AVX-512 kernels where the CPU has them, else its AVX2 ones.
var sgemmFallback = func() func(*gobackend.Backend, dot.Layout, []float32, []float32, int, int, int, int, []float32) {
	if archsimd.X86.AVX512() {
		return avx512RouterFloat32
	}
	return avx2RouterFloat32
}()
