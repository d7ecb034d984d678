// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

package matmul

import (
	"sync"

	"github.com/gomlx/compute/support/envutil"
)

// packedAsm: PackedMatrix products run the assembly micro-kernels (off with
// GOMLX_SGEMM_ASM=false, or on CPUs without AVX2+FMA).
var packedAsm = SGEMMSupported() && envutil.MustReadBool(SGEMMEnv, true)

var packedABuffers = sync.Pool{New: func() any { return new([]float32) }}

// packedMulAsm packs the M rows of x into 6-row micro-panels of full depth
// and runs the micro-kernels down the panels [p0,p1) of p, which are already
// in the kernels' order.
func packedMulAsm(p *PackedMatrix, out, x []float32, M, p0, p1 int) {
	K := p.K
	bp := packedABuffers.Get().(*[]float32)
	defer packedABuffers.Put(bp)
	need := (M + sgemmMR - 1) / sgemmMR * sgemmMR * K
	if cap(*bp) < need {
		*bp = make([]float32, need)
	}
	a := (*bp)[:need]
	packA(a, StridedMatrix{Data: x, RowStride: K, ColStride: 1}, 0, 0, M, 0, K)
	jc := p0 * packedNR
	sgemmMacro(a, p.data[jc*K:], out, p.N, 0, M, jc, min(p.N, p1*packedNR)-jc, K, false)
}
