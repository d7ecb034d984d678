// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build !amd64

package vecmath

var hasAVX2 = false // a variable, as on amd64, so tests can switch paths

func expShiftSumAVX2(out, in *float32, n int, shift float32) float32 { panic("unreachable") }

func sigmoidAVX2(out, in *float32, n int) { panic("unreachable") }

func dotAVX2(a, b *float32, n int) float32 { panic("unreachable") }

func axpyAVX2(y *float32, a float32, x *float32, n int) { panic("unreachable") }
