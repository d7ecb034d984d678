// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

// Package packedmm multiplies a few float32 rows (the tokens of one decoding
// step) by a weight matrix packed once into the order of the backend's
// assembly GEMM micro-kernels (AVX-512 or AVX2+FMA; a portable loop
// elsewhere). It is for code that runs a model's decode step on the host
// without building a graph per step.
package packedmm

import (
	"runtime"
	"sync"

	"github.com/gomlx/compute/internal/gobackend/dot/matmul"
)

// Matrix is a [K,N] float32 matrix in the micro-kernels' panel order.
type Matrix = matmul.PackedMatrix

// Pack packs the [K,N] matrix whose element (k, n) is
// data[k*rowStride + n*colStride]: rowStride N, colStride 1 for a row-major
// [K,N] matrix; rowStride 1, colStride K for PyTorch's [out,in] weights.
func Pack(data []float32, K, N, rowStride, colStride int) *Matrix {
	return matmul.PackMatrix(data, K, N, rowStride, colStride)
}

// minParallelFlops: smaller products run on the calling goroutine.
const minParallelFlops = 1 << 17

// Mul sets out[M,N] = x[M,K]·W, splitting W's column panels between up to
// workers goroutines (≤ 0: GOMAXPROCS).
func Mul(out, x []float32, M int, w *Matrix, workers int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	panels := w.Panels()
	workers = min(workers, panels)
	if workers <= 1 || 2*M*w.K*w.N < minParallelFlops {
		w.MulPanels(out, x, M, 0, panels)
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < workers; i++ {
		wg.Go(func() { w.MulPanels(out, x, M, i*panels/workers, (i+1)*panels/workers) })
	}
	w.MulPanels(out, x, M, 0, panels/workers)
	wg.Wait()
}
