// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

package matmul

import (
	"sync"
	"sync/atomic"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/dot"
	"github.com/gomlx/compute/support/envutil"
	"golang.org/x/sys/cpu"
)

// A float32 GEMM in the BLIS style: an assembly 6×16 AVX2+FMA micro-kernel
// (sgemm_amd64.s) under Go loops that pack panels of both operands into the
// order the kernel reads them. The Go-SIMD kernels upstream reach about 25
// GFLOPS per core on AVX2 machines (the loop is bound by instruction issue);
// this one runs near the FMA peak (about 95 GFLOPS per core on a 3 GHz Zen).
//
// Packing reads each operand through strides, so both DotGeneral layouts
// (rhs [K,N] and rhs [N,K]) cost the same.

//go:noescape
func sgemmKernel6x16(kc int, a, b, c *float32, ldc int, accumulate bool)

// sgemmKernel6x32 is the AVX-512 kernel: a 6×32 tile from one A micro-panel
// and two adjacent 16-column B panels, so it shares the packing above.
//
//go:noescape
func sgemmKernel6x32(kc int, a, b0, b1, c *float32, ldc int, accumulate bool)

// Packing copies (pack_amd64.s; patch: third_party/PATCHES.md).

//go:noescape
func packBlock16(dst *float32, panelStride int, src *float32, srcStride int, panels, rows int)

//go:noescape
func packBlock6(dst *float32, panelStride int, src *float32, srcStride int, panels, rows int)

//go:noescape
func packRows6(dst *float32, src *float32, srcStride int, kb int)

//go:noescape
func packTranspose8(dst *float32, src *float32, srcStride int, kb int)

// SGEMMAVX512Env disables the AVX-512 kernel (the AVX2 one is used) when false.
const SGEMMAVX512Env = "GOMLX_SGEMM_AVX512"

// sgemmAVX512 selects the 6×32 AVX-512 kernel for pairs of full column panels.
var sgemmAVX512 = cpu.X86.HasAVX512F && envutil.MustReadBool(SGEMMAVX512Env, true)

const (
	sgemmMR = 6    // micro-kernel rows (LHS cross)
	sgemmNR = 16   // micro-kernel columns (RHS cross)
	sgemmKC = 256  // contracting block: a 6×KC and a KC×16 panel fit in L1
	sgemmMC = 144  // LHS block: MC×KC packed floats (144 KiB) stay in L2
	sgemmNC = 1024 // RHS block: KC×NC packed floats (1 MiB) stay in L3

	// Below these sizes the upstream kernels are used: a 6-row kernel wastes
	// most of its work on matrix-vector products (decoding), and tiny products
	// are not worth the packing.
	sgemmMinRows  = 16
	sgemmMinFlops = 16 * 16 * 16
	// Products smaller than this run on the calling goroutine.
	sgemmMinParallelFlops = 1 << 20
)

// SGEMMEnv disables the assembly float32 kernel when set to false.
const SGEMMEnv = "GOMLX_SGEMM_ASM"

func init() {
	if !envutil.MustReadBool(EnabledEnv, true) || !envutil.MustReadBool(SGEMMEnv, true) {
		return
	}
	// On AVX-512 machines too: there the 6×32 AVX-512 kernel does the full
	// tiles (measured 2–3× upstream's AVX-512 kernels, see PATCHES.md).
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		registerSGEMM(false)
	}
}

// RegisterSGEMMForTests registers the assembly kernel in the test registry.
func RegisterSGEMMForTests() { registerSGEMM(true) }

// SGEMMSupported reports whether this CPU can run the assembly kernel.
func SGEMMSupported() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

func registerSGEMM(forTests bool) {
	for _, layout := range []dot.Layout{dot.LayoutNonTransposed, dot.LayoutTransposed, dot.LayoutLHSTransposed, dot.LayoutBothTransposed} {
		dot.RegisterImplementation("asm:sgemm-avx2", layout, dtypes.Float32, dtypes.Float32, sgemmRouter, PriorityAVX512+1, forTests)
	}
}

// sgemmRouter sends products the micro-kernel is good at to sgemm, the rest
// to the implementation this one replaced. The LHS-transposed layouts exist
// only for this kernel, so it runs them at every size.
func sgemmRouter(backend *gobackend.Backend, layout dot.Layout, lhs, rhs []float32,
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int, output []float32) {
	lhsT := layout == dot.LayoutLHSTransposed || layout == dot.LayoutBothTransposed
	rhsT := layout == dot.LayoutTransposed || layout == dot.LayoutBothTransposed
	if !lhsT && (lhsCrossSize < sgemmMinRows || lhsCrossSize*rhsCrossSize*contractingSize < sgemmMinFlops) {
		sgemmFallback(backend, layout, lhs, rhs, batchSize, lhsCrossSize, rhsCrossSize, contractingSize, output)
		return
	}
	// a is [M,K] or, transposed, [K,M]; b is [K,N] or, transposed, [N,K].
	a := StridedMatrix{Data: lhs, BatchStride: lhsCrossSize * contractingSize, RowStride: contractingSize, ColStride: 1}
	if lhsT {
		a.RowStride, a.ColStride = 1, lhsCrossSize
	}
	b := StridedMatrix{Data: rhs, BatchStride: rhsCrossSize * contractingSize, RowStride: rhsCrossSize, ColStride: 1}
	if rhsT {
		b.RowStride, b.ColStride = 1, contractingSize
	}
	workers := 1
	if backend != nil && backend.Workers != nil && batchSize*lhsCrossSize*rhsCrossSize*contractingSize >= sgemmMinParallelFlops {
		workers = backend.Workers.AdjustedMaxParallelism()
	}
	var run func(task func())
	if workers > 1 {
		run = backend.Workers.Saturate
	}
	if amxEnabled() {
		// Patch: third_party/PATCHES.md (opt-in bf16 products on AMX).
		AMXGEMM(run, workers, batchSize, lhsCrossSize, rhsCrossSize, contractingSize, a, b, output)
		return
	}
	SGEMM(run, workers, batchSize, lhsCrossSize, rhsCrossSize, contractingSize, a, b, output)
}

// StridedMatrix is a batch of matrices read through strides: element (b, r, c)
// is Data[b*BatchStride + r*RowStride + c*ColStride].
type StridedMatrix struct {
	Data                              []float32
	BatchStride, RowStride, ColStride int
}

type sgemmTask struct{ batch, row0, row1, col0, col1 int }

// SGEMM computes out[b] = a[b]·b[b] for every b < batch, with a[b] of shape
// [m,k], b[b] of shape [k,n] and out row-major [batch,m,n]. run (nil for the
// calling goroutine) starts up to workers goroutines that share the work.
//
// Work is split by whole matrices of the batch and column blocks of NC when
// that gives every worker two tasks; each task packs its own panels. Fewer,
// taller products (one [tokens, hidden] matrix) are split by rows instead,
// and then the workers share each packed B panel rather than each packing
// all of B.
func SGEMM(run func(task func()), workers, batch, m, n, k int, a, b StridedMatrix, out []float32) {
	out = out[:batch*m*n]
	if k == 0 {
		clear(out)
		return
	}
	colBlocks := (n + sgemmNC - 1) / sgemmNC
	if run != nil && workers > 1 && batch*colBlocks < 2*workers && m > sgemmMC {
		sgemmSharedB(run, workers, batch, m, n, k, a, b, out)
		return
	}
	var tasks []sgemmTask
	for bi := range batch {
		for j := 0; j < n; j += sgemmNC {
			tasks = append(tasks, sgemmTask{bi, 0, m, j, min(j+sgemmNC, n)})
		}
	}
	parallelFor(run, workers, len(tasks), func(i int, bufs *sgemmPacked) {
		t := tasks[i]
		c := out[t.batch*m*n : (t.batch+1)*m*n]
		for p := 0; p < k; p += sgemmKC {
			kc := min(sgemmKC, k-p)
			nc := t.col1 - t.col0
			packB(bufs.b[:], b, t.batch, p, kc, t.col0, nc)
			for ic := t.row0; ic < t.row1; ic += sgemmMC {
				mc := min(sgemmMC, t.row1-ic)
				packA(bufs.a[:], a, t.batch, ic, mc, p, kc)
				sgemmMacro(bufs.a[:], bufs.b[:], c, n, ic, mc, t.col0, nc, kc, p > 0)
			}
		}
	})
}

// sgemmSharedB runs each KC×NC block of B packed once, shared by workers that
// split the MC row blocks between them.
func sgemmSharedB(run func(task func()), workers, batch, m, n, k int, a, b StridedMatrix, out []float32) {
	shared := sgemmBuffers.Get().(*sgemmPacked)
	defer sgemmBuffers.Put(shared)
	rowBlocks := (m + sgemmMC - 1) / sgemmMC
	for bi := range batch {
		c := out[bi*m*n : (bi+1)*m*n]
		for jc := 0; jc < n; jc += sgemmNC {
			nc := min(sgemmNC, n-jc)
			panels := (nc + sgemmNR - 1) / sgemmNR
			for p := 0; p < k; p += sgemmKC {
				kc := min(sgemmKC, k-p)
				if b.ColStride == 1 {
					// Patch: third_party/PATCHES.md (packBRows).
					const rows = 16
					parallelFor(run, workers, (kc+rows-1)/rows, func(i int, _ *sgemmPacked) {
						packBRows(shared.b[:], b, bi, p, kc, i*rows, min((i+1)*rows, kc), jc, nc)
					})
				} else {
					parallelFor(run, workers, panels, func(i int, _ *sgemmPacked) {
						jr := i * sgemmNR
						packB(shared.b[jr*kc:], b, bi, p, kc, jc+jr, min(sgemmNR, nc-jr))
					})
				}
				parallelFor(run, workers, rowBlocks, func(i int, bufs *sgemmPacked) {
					ic := i * sgemmMC
					mc := min(sgemmMC, m-ic)
					packA(bufs.a[:], a, bi, ic, mc, p, kc)
					sgemmMacro(bufs.a[:], shared.b[:], c, n, ic, mc, jc, nc, kc, p > 0)
				})
			}
		}
	}
}

// parallelFor calls fn(i, buffers) for i < n on up to workers goroutines
// started by run (or on this one), each with its own packing buffers.
func parallelFor(run func(task func()), workers, n int, fn func(i int, bufs *sgemmPacked)) {
	var next atomic.Int64
	worker := func() {
		bufs := sgemmBuffers.Get().(*sgemmPacked)
		defer sgemmBuffers.Put(bufs)
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			fn(i, bufs)
		}
	}
	if run == nil || workers <= 1 || n == 1 {
		worker()
		return
	}
	run(worker)
}

// sgemmPacked is one worker's packing space, reused across calls.
type sgemmPacked struct {
	a [sgemmMC * sgemmKC]float32
	b [sgemmKC * sgemmNC]float32
}

var sgemmBuffers = sync.Pool{New: func() any { return new(sgemmPacked) }}

// sgemmMacro runs the micro-kernels over the tiles of rows [ic,ic+mc) ×
// columns [jc,jc+nc) of c (row stride ldc), from packed A and B blocks of
// depth kc. accumulate adds to c instead of overwriting it.
func sgemmMacro(packedA, packedB, c []float32, ldc, ic, mc, jc, nc, kc int, accumulate bool) {
	for jr := 0; jr < nc; {
		if sgemmAVX512 && nc-jr >= 2*sgemmNR {
			sgemmPanels32(packedA, &packedB[jr*kc], &packedB[(jr+sgemmNR)*kc], c, ldc, ic, mc, jc+jr, kc, accumulate)
			jr += 2 * sgemmNR
			continue
		}
		sgemmPanel16(packedA, &packedB[jr*kc], c, ldc, ic, mc, jc+jr, min(sgemmNR, nc-jr), kc, accumulate)
		jr += sgemmNR
	}
}

// sgemmPanels32 runs the 6×32 AVX-512 kernel down two full 16-column panels
// (bp0, bp1) for rows [ic,ic+mc), columns [col,col+32) of c.
func sgemmPanels32(packedA []float32, bp0, bp1 *float32, c []float32, ldc, ic, mc, col, kc int, accumulate bool) {
	var edge [sgemmMR * 2 * sgemmNR]float32
	for ir := 0; ir < mc; ir += sgemmMR {
		rows := min(sgemmMR, mc-ir)
		ap := &packedA[ir*kc]
		at := (ic+ir)*ldc + col
		if rows == sgemmMR {
			sgemmKernel6x32(kc, ap, bp0, bp1, &c[at], ldc, accumulate)
			continue
		}
		sgemmKernel6x32(kc, ap, bp0, bp1, &edge[0], 2*sgemmNR, false)
		sgemmEdge(c[at:], ldc, edge[:], 2*sgemmNR, rows, 2*sgemmNR, accumulate)
	}
}

// sgemmPanel16 runs the 6×16 kernel down one packed panel bp of cols ≤ 16
// valid columns, for rows [ic,ic+mc), columns [col,col+cols) of c.
func sgemmPanel16(packedA []float32, bp *float32, c []float32, ldc, ic, mc, col, cols, kc int, accumulate bool) {
	var edge [sgemmMR * sgemmNR]float32
	for ir := 0; ir < mc; ir += sgemmMR {
		rows := min(sgemmMR, mc-ir)
		ap := &packedA[ir*kc]
		at := (ic+ir)*ldc + col
		if rows == sgemmMR && cols == sgemmNR {
			sgemmKernel6x16(kc, ap, bp, &c[at], ldc, accumulate)
			continue
		}
		// Edge tile: compute the full 6×16 tile aside, keep the valid part.
		sgemmKernel6x16(kc, ap, bp, &edge[0], sgemmNR, false)
		sgemmEdge(c[at:], ldc, edge[:], sgemmNR, rows, cols, accumulate)
	}
}

// sgemmEdge writes (or adds) rows×cols of a tile computed aside into c.
func sgemmEdge(c []float32, ldc int, tile []float32, ldt, rows, cols int, accumulate bool) {
	for r := range rows {
		dst := c[r*ldc : r*ldc+cols]
		src := tile[r*ldt : r*ldt+cols]
		if accumulate {
			for x := range dst {
				dst[x] += src[x]
			}
		} else {
			copy(dst, src)
		}
	}
}

// packA packs rows [i0,i0+mc) × contracting [k0,k0+kc) of a[batch] into
// micro-panels of 6 rows; panel p holds, for each k, its 6 row values
// (zero past the last row).
func packA(dst []float32, a StridedMatrix, batch, i0, mc, k0, kc int) {
	base := batch * a.BatchStride
	if a.RowStride == 1 {
		// Patch: third_party/PATCHES.md. A transposed (the activations of a
		// weight gradient): blocks of 8 k rows, each read once, handing
		// their six-row pieces to every panel (as packBRows), rather than
		// one short piece of each of kc rows per panel (kc pages apart when
		// a is wide).
		full := mc - mc%sgemmMR
		if full > 0 {
			_ = dst[full*kc-1]
			_ = a.Data[base+(k0+kc-1)*a.ColStride+i0+full-1]
			for kk := 0; kk < kc; kk += packRowBlock {
				packBlock6(&dst[kk*sgemmMR], 4*sgemmMR*kc, &a.Data[base+(k0+kk)*a.ColStride+i0], 4*a.ColStride, full/sgemmMR, min(packRowBlock, kc-kk))
			}
		}
		for kk := range kc {
			row := a.Data[base+(k0+kk)*a.ColStride+i0:][:mc]
			if full < mc {
				d := dst[full*kc+kk*sgemmMR:][:sgemmMR]
				n := copy(d, row[full:])
				clear(d[n:])
			}
		}
		return
	}
	for ir := 0; ir < mc; ir += sgemmMR {
		rows := min(sgemmMR, mc-ir)
		d := dst[ir*kc : ir*kc+sgemmMR*kc]
		if rows < sgemmMR {
			clear(d)
		}
		switch {
		case a.ColStride == 1 && rows == sgemmMR:
			// Six rows read side by side, the panel written in order.
			at := base + (i0+ir)*a.RowStride + k0
			// Patch: third_party/PATCHES.md. Blocks of 8 k transposed in
			// registers; the tail below.
			kb := kc / 8
			if kb > 0 {
				_ = a.Data[at+(sgemmMR-1)*a.RowStride+kb*8-1]
				_ = d[kb*8*sgemmMR-1]
				packRows6(&d[0], &a.Data[at], 4*a.RowStride, kb)
			}
			r0 := a.Data[at:][:kc]
			r1 := a.Data[at+a.RowStride:][:kc]
			r2 := a.Data[at+2*a.RowStride:][:kc]
			r3 := a.Data[at+3*a.RowStride:][:kc]
			r4 := a.Data[at+4*a.RowStride:][:kc]
			r5 := a.Data[at+5*a.RowStride:][:kc]
			for kk := kb * 8; kk < kc; kk++ {
				p := (*[sgemmMR]float32)(d[kk*sgemmMR:])
				p[0], p[1], p[2], p[3], p[4], p[5] = r0[kk], r1[kk], r2[kk], r3[kk], r4[kk], r5[kk]
			}
		case a.ColStride == 1:
			for r := range rows {
				src := a.Data[base+(i0+ir+r)*a.RowStride+k0:][:kc]
				for kk, v := range src {
					d[kk*sgemmMR+r] = v
				}
			}
		default:
			for r := range rows {
				for kk := range kc {
					d[kk*sgemmMR+r] = a.Data[base+(i0+ir+r)*a.RowStride+(k0+kk)*a.ColStride]
				}
			}
		}
	}
}

// packB packs contracting [k0,k0+kc) × columns [j0,j0+nc) of b[batch] into
// micro-panels of 16 columns; panel p holds, for each k, its 16 column values
// (zero past the last column).
func packB(dst []float32, b StridedMatrix, batch, k0, kc, j0, nc int) {
	if b.ColStride == 1 {
		packBRows(dst, b, batch, k0, kc, 0, kc, j0, nc)
		return
	}
	base := batch * b.BatchStride
	for jr := 0; jr < nc; jr += sgemmNR {
		cols := min(sgemmNR, nc-jr)
		d := dst[jr*kc : jr*kc+sgemmNR*kc]
		if cols < sgemmNR {
			clear(d)
		}
		switch { // (contiguous rows, ColStride 1, went to packBRows above)
		case b.RowStride == 1 && cols == sgemmNR && kc >= 8:
			// Patch: third_party/PATCHES.md. 8×8 blocks transposed in
			// registers; the k tail element by element.
			at := base + (j0+jr)*b.ColStride + k0
			_ = b.Data[at+(sgemmNR-1)*b.ColStride+kc-1]
			kb := kc / 8
			packTranspose8(&d[0], &b.Data[at], 4*b.ColStride, kb)
			packTranspose8(&d[8], &b.Data[at+8*b.ColStride], 4*b.ColStride, kb)
			for c := range sgemmNR {
				src := b.Data[at+c*b.ColStride:][:kc]
				for kk := kb * 8; kk < kc; kk++ {
					d[kk*sgemmNR+c] = src[kk]
				}
			}
		case b.RowStride == 1:
			for c := range cols {
				src := b.Data[base+(j0+jr+c)*b.ColStride+k0:][:kc]
				for kk, v := range src {
					d[kk*sgemmNR+c] = v
				}
			}
		default:
			for kk := range kc {
				for c := range cols {
					d[kk*sgemmNR+c] = b.Data[base+(k0+kk)*b.RowStride+(j0+jr+c)*b.ColStride]
				}
			}
		}
	}
}

// packRowBlock is the number of k rows packed panel by panel at a time:
// their pieces of every panel are written in order while the rows stay in L1.
const packRowBlock = 8

// packBRows writes rows [kLo,kHi) of packB's panels for a b with contiguous
// rows (ColStride 1), in blocks of packRowBlock rows read once each, whose
// 16-column pieces go to every panel in turn. (Filling one panel at a time
// over all kc rows instead
// reads one cache line from each of kc rows, each on its own page when b is
// wide: the TLB misses made packing an eighth of a step at 0.6B width.)
// Patch: third_party/PATCHES.md.
func packBRows(dst []float32, b StridedMatrix, batch, k0, kc, kLo, kHi, j0, nc int) {
	full := nc &^ (sgemmNR - 1)
	base := batch*b.BatchStride + j0
	if full > 0 && kHi > kLo {
		_ = dst[(full-sgemmNR)*kc+(kHi-1)*sgemmNR+sgemmNR-1]
		_ = b.Data[base+(k0+kHi-1)*b.RowStride+full-1]
		for kk := kLo; kk < kHi; kk += packRowBlock {
			packBlock16(&dst[kk*sgemmNR], 4*sgemmNR*kc, &b.Data[base+(k0+kk)*b.RowStride], 4*b.RowStride, full/sgemmNR, min(packRowBlock, kHi-kk))
		}
	}
	for kk := kLo; kk < kHi; kk++ {
		row := b.Data[base+(k0+kk)*b.RowStride:][:nc]
		if full < nc {
			d := dst[full*kc+kk*sgemmNR:][:sgemmNR]
			n := copy(d, row[full:])
			clear(d[n:])
		}
	}
}
