// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

package matmul

import "testing"

// packedKernelModes: the assembly micro-kernels this CPU runs (see sgemmKernels).
func packedKernelModes(t testing.TB) map[string]func() {
	if !SGEMMSupported() {
		return nil
	}
	return sgemmKernels(t)
}
