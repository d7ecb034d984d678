// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64 && !goexperiment.simd

package matmul

// sgemmFallback is the implementation the assembly kernel took over from.
var sgemmFallback = noSIMDRouter[float32, float32]
