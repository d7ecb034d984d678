// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package vecmath

import "math"

// AdamW holds one parameter's AdamW step constants. Update computes, per
// element, in float32 and in this order (the order of a plain Go loop, so
// the vector and portable paths agree bit for bit):
//
//	gr = g·GradScale
//	m  = B1·m + (1−B1)·gr
//	v  = B2·v + (1−B2)·gr·gr
//	p  = p·Decay − Step·m / (√v·InvBC2 + Eps)
type AdamW struct {
	GradScale, Decay, B1, B2, Step, InvBC2, Eps float32
}

// adamwConsts are the constants, each repeated over eight lanes, in the
// order the assembly reads them.
type adamwConsts [9][8]float32

// Update applies one step to p, m and v (all of len(p)) from gradient g.
func (c *AdamW) Update(p, m, v, g []float32) {
	m, v, g = m[:len(p)], v[:len(p)], g[:len(p)]
	oneB1, oneB2 := 1-c.B1, 1-c.B2
	head := 0
	if hasAVX2 {
		head = len(p) &^ 7
		if head > 0 {
			var k adamwConsts
			for i, x := range [...]float32{c.GradScale, c.B1, oneB1, c.B2, oneB2, c.Decay, c.Step, c.InvBC2, c.Eps} {
				for j := range k[i] {
					k[i][j] = x
				}
			}
			adamwAVX2(&p[0], &m[0], &v[0], &g[0], head, &k)
		}
	}
	// Explicit conversions round every product, as the assembly does (Go may
	// otherwise fuse a·b+c into one FMA on some architectures).
	for j := head; j < len(p); j++ {
		gr := g[j] * c.GradScale
		mo := float32(c.B1*m[j]) + float32(oneB1*gr)
		ve := float32(c.B2*v[j]) + float32(float32(oneB2*gr)*gr)
		m[j], v[j] = mo, ve
		d := float32(sqrt32(ve)*c.InvBC2) + c.Eps
		p[j] = float32(p[j]*c.Decay) - float32(c.Step*mo)/d
	}
}

// SumSquares returns Σ x[i]² in float64 (each square is exact there).
func SumSquares(x []float32) float64 {
	head := 0
	var s float64
	if hasAVX2 {
		head = len(x) &^ 15
		if head > 0 {
			s = sumSquaresAVX2(&x[0], head)
		}
	}
	var s0, s1, s2, s3 float64
	x = x[head:]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i]) * float64(x[i])
		s1 += float64(x[i+1]) * float64(x[i+1])
		s2 += float64(x[i+2]) * float64(x[i+2])
		s3 += float64(x[i+3]) * float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i]) * float64(x[i])
	}
	return s + ((s0 + s1) + (s2 + s3))
}

// sqrt32 is the correctly rounded float32 square root (as VSQRTPS): the
// float64 root of a float32 rounds to the same value.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
