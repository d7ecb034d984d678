// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build !amd64

package matmul

var packedAsm = false

func packedMulAsm(p *PackedMatrix, out, x []float32, M, p0, p1 int) {
	packedMulGeneric(p, out, x, M, p0, p1)
}
