// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

// Package vecmath exports the backend's vectorised float32 loops (AVX2
// assembly on amd64, portable Go elsewhere) to code that runs a model step
// or an optimizer update on the host.
package vecmath

import "github.com/gomlx/compute/internal/vecmath"

// ExpShiftSum sets out[i] = exp(in[i] - shift) and returns Σ out[i]; every
// in[i] - shift must be ≤ 0 (shift is the maximum, as in softmax).
func ExpShiftSum(out, in []float32, shift float32) float32 {
	return vecmath.ExpShiftSum(out, in, shift)
}

// Sigmoid sets out[i] = 1/(1+exp(-in[i])).
func Sigmoid(out, in []float32) { vecmath.Sigmoid(out, in) }

// Dot is Σ a[i]·b[i] over len(a) (AVX2+FMA where the CPU has it).
func Dot(a, b []float32) float32 { return vecmath.Dot(a, b) }

// Axpy sets y[i] += a·x[i] over len(y).
func Axpy(y []float32, a float32, x []float32) { vecmath.Axpy(y, a, x) }

// AdamW holds one parameter's AdamW step constants; its Update applies the
// step to parameters, moments and a gradient in one vectorised pass.
type AdamW = vecmath.AdamW

// SumSquares returns Σ x[i]² in float64.
func SumSquares(x []float32) float64 { return vecmath.SumSquares(x) }
