// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package matmul

// PackedMatrix is a float32 [K,N] matrix packed once into 16-column panels:
// panel p holds, for each k, the columns [16p, 16p+16) (zeros past N), the
// order the assembly micro-kernels read. Products of a few rows against a
// weight matrix (decoding) then stream the weights without repacking them at
// every call, which the GEMM has to do.
type PackedMatrix struct {
	K, N int
	data []float32
}

const packedNR = 16

// PackMatrix packs the [K,N] matrix whose element (k, n) is
// data[k*rowStride + n*colStride].
func PackMatrix(data []float32, K, N, rowStride, colStride int) *PackedMatrix {
	p := &PackedMatrix{K: K, N: N}
	panels := p.Panels()
	p.data = make([]float32, panels*packedNR*K)
	for j := range panels {
		d := p.data[j*packedNR*K : (j+1)*packedNR*K]
		cols := min(packedNR, N-j*packedNR)
		for c := range cols {
			src := (j*packedNR + c) * colStride
			for k := range K {
				d[k*packedNR+c] = data[src+k*rowStride]
			}
		}
	}
	return p
}

// Panels is the number of 16-column panels.
func (p *PackedMatrix) Panels() int { return (p.N + packedNR - 1) / packedNR }

// MulPanels sets out[m*N + n] = Σ_k x[m*K + k]·W[k, n] for rows m < M and
// the columns of panels [p0, p1). Calls on disjoint panel ranges may run
// concurrently.
func (p *PackedMatrix) MulPanels(out, x []float32, M, p0, p1 int) {
	if M == 0 || p0 >= p1 {
		return
	}
	if p.K == 0 {
		for m := range M {
			clear(out[m*p.N+p0*packedNR : m*p.N+min(p.N, p1*packedNR)])
		}
		return
	}
	if packedAsm {
		packedMulAsm(p, out, x, M, p0, p1)
		return
	}
	packedMulGeneric(p, out, x, M, p0, p1)
}

// packedMulGeneric is the portable product: one row and one panel at a time,
// sixteen accumulators.
func packedMulGeneric(p *PackedMatrix, out, x []float32, M, p0, p1 int) {
	K, N := p.K, p.N
	for j := p0; j < p1; j++ {
		panel := p.data[j*packedNR*K : (j+1)*packedNR*K]
		cols := min(packedNR, N-j*packedNR)
		for m := range M {
			var acc [packedNR]float32
			for k, v := range x[m*K : (m+1)*K] {
				w := (*[packedNR]float32)(panel[k*packedNR:])
				acc[0] += v * w[0]
				acc[1] += v * w[1]
				acc[2] += v * w[2]
				acc[3] += v * w[3]
				acc[4] += v * w[4]
				acc[5] += v * w[5]
				acc[6] += v * w[6]
				acc[7] += v * w[7]
				acc[8] += v * w[8]
				acc[9] += v * w[9]
				acc[10] += v * w[10]
				acc[11] += v * w[11]
				acc[12] += v * w[12]
				acc[13] += v * w[13]
				acc[14] += v * w[14]
				acc[15] += v * w[15]
			}
			copy(out[m*N+j*packedNR:m*N+j*packedNR+cols], acc[:cols])
		}
	}
}
