// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

package vecmath

//go:noescape
func addVVAVX2(o, a, b *float32, n int)

//go:noescape
func subVVAVX2(o, a, b *float32, n int)

//go:noescape
func mulVVAVX2(o, a, b *float32, n int)

//go:noescape
func divVVAVX2(o, a, b *float32, n int)

//go:noescape
func addVSAVX2(o, a *float32, s float32, n int)

//go:noescape
func subVSAVX2(o, a *float32, s float32, n int)

//go:noescape
func mulVSAVX2(o, a *float32, s float32, n int)

//go:noescape
func divVSAVX2(o, a *float32, s float32, n int)

//go:noescape
func subSVAVX2(o *float32, s float32, b *float32, n int)

//go:noescape
func divSVAVX2(o *float32, s float32, b *float32, n int)

//go:noescape
func maxAVX2(x *float32, n int) float32

//go:noescape
func adamwAVX2(p, m, v, grad *float32, n int, k *adamwConsts)

//go:noescape
func sumSquaresAVX2(x *float32, n int) float64
