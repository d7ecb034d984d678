// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build !amd64

package matmul

import "testing"

func packedKernelModes(testing.TB) map[string]func() { return nil }
