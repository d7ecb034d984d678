// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

package matmul

import (
	"fmt"
	"math"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// An opt-in bfloat16 GEMM on Intel AMX (GOMLX_SGEMM_BF16=amx): float32 in and
// out, operands rounded to bfloat16 while they are packed, products summed in
// float32 tiles by TDPBF16PS. It trades precision (8-bit mantissas in the
// products, as mixed-precision training does) for speed; the float32 GEMM
// stays the default.

//go:noescape
func amxBF16Kernel(cfg *byte, a, b *uint16, kt int, c *float32, ldc, nb int, accumulate bool)

// SGEMMBF16Env selects the bfloat16 GEMM when set to "amx" (where the CPU and
// the kernel allow AMX; otherwise the float32 GEMM runs).
const SGEMMBF16Env = "GOMLX_SGEMM_BF16"

const (
	amxBlock = 32 // C block: 2×2 tiles of 16×16
	amxKStep = 32 // bf16 values per tile row
	amxTile  = 16 * amxKStep
	// Columns of B one task packs and runs against every row block.
	amxChunkCols = 256
	amxKC        = 512 // contracting block (a multiple of amxKStep)
)

// amxTileConfig is the LDTILECFG operand: palette 1, tiles 0-7 of 16 rows ×
// 64 bytes.
var amxTileConfig = func() *[64]byte {
	var cfg [64]byte
	cfg[0] = 1
	for t := range 8 {
		cfg[16+2*t] = 64
		cfg[48+t] = 16
	}
	return &cfg
}()

const (
	archReqXCompPerm  = 0x1023
	archGetXCompPerm  = 0x1022
	xfeatureXTileData = 18
)

var amxOnce = sync.OnceValue(func() bool {
	// The packing routines use AVX-512 (every AMX CPU so far has it).
	if !cpu.X86.HasAMXTile || !cpu.X86.HasAMXBF16 || !cpu.X86.HasAVX512F {
		return false
	}
	// Linux hands out AMX state only to processes that ask for it (since 5.16).
	if _, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXCompPerm, xfeatureXTileData, 0); errno != 0 {
		return false
	}
	var mask uint64
	if _, _, errno := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archGetXCompPerm, uintptr(unsafe.Pointer(&mask)), 0); errno != 0 {
		return false
	}
	return mask&(1<<xfeatureXTileData) != 0
})

// AMXSupported reports whether the CPU has AMX-BF16 and the OS granted this
// process the tile state.
func AMXSupported() bool { return amxOnce() }

// amxEnabled is whether the dispatch uses the AMX GEMM: opt-in, and only
// where AMX works.
var amxEnabled = sync.OnceValue(func() bool {
	switch v := os.Getenv(SGEMMBF16Env); {
	case v == "":
		return false
	case v != "amx":
		fmt.Fprintf(os.Stderr, "warning: %s=%q ignored (the only value is \"amx\"); float32 products\n", SGEMMBF16Env, v)
		return false
	case !AMXSupported():
		fmt.Fprintf(os.Stderr, "warning: %s=amx ignored: this CPU or kernel offers no AMX bf16 tiles; float32 products\n", SGEMMBF16Env)
		return false
	}
	return true
})

// toBF16 rounds f to the nearest bfloat16 (ties to even); NaNs stay NaNs.
func toBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

//go:noescape
func amxPackRows(dst *uint16, src *float32, srcStride, rows int)

//go:noescape
func amxPackPairs(dst *uint16, src *float32, srcStride, pairs int)

//go:noescape
func amxPackRowsT(dst *uint16, src *float32, srcStride int)

//go:noescape
func amxPackPairsT(dst *uint16, src *float32, srcStride int)

// amxPackA packs rows [i0, i0+32) × contracting [k0, k1) of a[batch]
// (zeros past m and k1) as [kt][2][16][32] bf16.
func amxPackA(dst []uint16, a StridedMatrix, batch, i0, m, k0, k1, kt int) {
	base := batch * a.BatchStride
	for t := range kt {
		p := k0 + t*amxKStep
		for s := range 2 {
			r0 := i0 + s*16
			tile := dst[(2*t+s)*amxTile : (2*t+s+1)*amxTile]
			if a.ColStride == 1 && r0+16 <= m && p+amxKStep <= k1 {
				amxPackRows(&tile[0], &a.Data[base+r0*a.RowStride+p], a.RowStride, 16)
				continue
			}
			if a.RowStride == 1 && r0+16 <= m && p+amxKStep <= k1 {
				amxPackPairsT(&tile[0], &a.Data[base+p*a.ColStride+r0], a.ColStride)
				continue
			}
			clear(tile)
			for r := range max(0, min(16, m-r0)) {
				for c := range min(amxKStep, k1-p) {
					tile[r*amxKStep+c] = toBF16(a.Data[base+(r0+r)*a.RowStride+(p+c)*a.ColStride])
				}
			}
		}
	}
}

// amxPackB packs columns [j0, j0+32·blocks) × contracting [k0, k1) of
// b[batch] (zeros past n and k1) as blocks of [kt][2][16 k pairs][16 cols ×
// 2] bf16.
func amxPackB(dst []uint16, b StridedMatrix, batch, j0, blocks, n, k0, k1, kt int) {
	base := batch * b.BatchStride
	for jb := range blocks {
		for t := range kt {
			p := k0 + t*amxKStep
			for s := range 2 {
				c0 := j0 + jb*amxBlock + s*16
				at := (jb*kt+t)*2*amxTile + s*amxTile
				tile := dst[at : at+amxTile]
				full := c0+16 <= n && p+amxKStep <= k1
				switch {
				case full && b.ColStride == 1:
					amxPackPairs(&tile[0], &b.Data[base+p*b.RowStride+c0], b.RowStride, 16)
					continue
				case full && b.RowStride == 1:
					amxPackRowsT(&tile[0], &b.Data[base+c0*b.ColStride+p], b.ColStride)
					continue
				}
				clear(tile)
				for c := range max(0, min(16, n-c0)) {
					for x := range min(amxKStep, k1-p) {
						tile[(x/2)*amxKStep+2*c+x%2] = toBF16(b.Data[base+(p+x)*b.RowStride+(c0+c)*b.ColStride])
					}
				}
			}
		}
	}
}

// amxBuffers keeps packing buffers between calls: fresh memory costs a page
// fault per 4 KiB, more than packing it.
var amxBuffers sync.Pool

func amxBuffer(size int) []uint16 {
	if buf, ok := amxBuffers.Get().([]uint16); ok && cap(buf) >= size {
		return buf[:size]
	}
	return make([]uint16, size)
}

// AMXGEMM is SGEMM with bf16 products on AMX (see SGEMM for the arguments);
// the caller checks AMXSupported.
func AMXGEMM(run func(task func()), workers, batch, m, n, k int, a, b StridedMatrix, out []float32) {
	out = out[:batch*m*n]
	if k == 0 {
		clear(out)
		return
	}
	// Contracting blocks of amxKC keep a 32-row A block and a 32-column B
	// block (32 KiB each) in L1/L2 while their 32×32 of C is summed.
	kt := (min(k, amxKC) + amxKStep - 1) / amxKStep
	rowBlocks := (m + amxBlock - 1) / amxBlock
	blockSize := kt * 2 * amxTile
	packedA := amxBuffer(rowBlocks * blockSize)
	defer amxBuffers.Put(packedA)
	for bi := range batch {
		c := out[bi*m*n : (bi+1)*m*n]
		for k0 := 0; k0 < k; k0 += amxKC {
			k1 := min(k0+amxKC, k)
			amxGEMMBlock(run, workers, bi, m, n, k0, k1, a, b, packedA, c)
		}
	}
}

// amxGEMMBlock sets (k0 == 0) or adds to c[m,n] the product over
// contracting [k0, k1) of a[batch] and b[batch]; packedA holds all of A's
// row blocks for that range.
func amxGEMMBlock(run func(task func()), workers, bi, m, n, k0, k1 int, a, b StridedMatrix, packedA []uint16, c []float32) {
	kt := (k1 - k0 + amxKStep - 1) / amxKStep
	rowBlocks := (m + amxBlock - 1) / amxBlock
	blockSize := kt * 2 * amxTile
	chunks := (n + amxChunkCols - 1) / amxChunkCols
	accumulate := k0 > 0
	parallelFor(run, workers, rowBlocks, func(i int, _ *sgemmPacked) {
		amxPackA(packedA[i*blockSize:], a, bi, i*amxBlock, m, k0, k1, kt)
	})
	parallelFor(run, workers, chunks, func(i int, _ *sgemmPacked) {
		j0 := i * amxChunkCols
		cols := min(amxChunkCols, n-j0)
		blocks := (cols + amxBlock - 1) / amxBlock
		packedB := amxBuffer(blocks * blockSize)
		defer amxBuffers.Put(packedB)
		amxPackB(packedB, b, bi, j0, blocks, n, k0, k1, kt)
		full := cols / amxBlock
		var edge [amxBlock * amxBlock]float32
		for ib := range rowBlocks {
			i0 := ib * amxBlock
			ap := &packedA[ib*blockSize]
			rows := min(amxBlock, m-i0)
			nf := full
			if rows < amxBlock {
				nf = 0
			}
			if nf > 0 {
				amxBF16Kernel(&amxTileConfig[0], ap, &packedB[0], kt, &c[i0*n+j0], n, nf, accumulate)
			}
			for jb := nf; jb < blocks; jb++ {
				amxBF16Kernel(&amxTileConfig[0], ap, &packedB[jb*blockSize], kt, &edge[0], amxBlock, 1, false)
				jc := j0 + jb*amxBlock
				sgemmEdge(c[i0*n+jc:], n, edge[:], amxBlock, rows, min(amxBlock, n-jc), accumulate)
			}
		}
	})
}
