// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build !amd64

package vecmath

func addVVAVX2(o, a, b *float32, n int)                  { panic("unreachable") }
func subVVAVX2(o, a, b *float32, n int)                  { panic("unreachable") }
func mulVVAVX2(o, a, b *float32, n int)                  { panic("unreachable") }
func divVVAVX2(o, a, b *float32, n int)                  { panic("unreachable") }
func addVSAVX2(o, a *float32, s float32, n int)          { panic("unreachable") }
func subVSAVX2(o, a *float32, s float32, n int)          { panic("unreachable") }
func mulVSAVX2(o, a *float32, s float32, n int)          { panic("unreachable") }
func divVSAVX2(o, a *float32, s float32, n int)          { panic("unreachable") }
func subSVAVX2(o *float32, s float32, b *float32, n int) { panic("unreachable") }
func divSVAVX2(o *float32, s float32, b *float32, n int) { panic("unreachable") }
func maxAVX2(x *float32, n int) float32                  { panic("unreachable") }

func adamwAVX2(p, m, v, grad *float32, n int, k *adamwConsts) { panic("unreachable") }

func sumSquaresAVX2(x *float32, n int) float64 { panic("unreachable") }
