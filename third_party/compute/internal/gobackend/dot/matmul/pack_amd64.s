// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

#include "textflag.h"

// func packBlock16(dst *float32, panelStride int, src *float32, srcStride int, panels, rows int)
// Copies rows (≥ 1) consecutive k rows of panels (≥ 1) 16-float pieces: the
// piece of panel p in row r, at src + r·srcStride + 64·p bytes, goes to
// dst + p·panelStride + 64·r. Panel by panel, so writes are sequential and
// the few source rows stay in L1.
TEXT ·packBlock16(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ panelStride+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), BX
	MOVQ panels+32(FP), CX

b16panel:
	MOVQ rows+40(FP), R8
	MOVQ SI, R9
	MOVQ DI, R10

b16row:
	VMOVUPS (R9), Y0
	VMOVUPS 32(R9), Y1
	VMOVUPS Y0, (R10)
	VMOVUPS Y1, 32(R10)
	ADDQ    BX, R9
	ADDQ    $64, R10
	DECQ    R8
	JNZ     b16row
	ADDQ    $64, SI
	ADDQ    DX, DI
	DECQ    CX
	JNZ     b16panel
	VZEROUPPER
	RET

// func packBlock6(dst *float32, panelStride int, src *float32, srcStride int, panels, rows int)
// The same for 6-float pieces (A panels).
TEXT ·packBlock6(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ panelStride+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), BX
	MOVQ panels+32(FP), CX

b6panel:
	MOVQ rows+40(FP), R8
	MOVQ SI, R9
	MOVQ DI, R10

b6row:
	MOVUPS (R9), X0
	MOVSD  16(R9), X1
	MOVUPS X0, (R10)
	MOVSD  X1, 16(R10)
	ADDQ   BX, R9
	ADDQ   $24, R10
	DECQ   R8
	JNZ    b6row
	ADDQ   $24, SI
	ADDQ   DX, DI
	DECQ   CX
	JNZ    b6panel
	RET

// func packTranspose8(dst *float32, src *float32, srcStride int, kb int)
// For kb blocks of 8 k: reads 8 columns (column c at src + c·srcStride
// bytes, 8 consecutive k each), transposes the 8×8 block and writes row k
// of it at dst + k·64 bytes (a 16-column panel's row), advancing src by 8
// floats and dst by 8 panel rows per block.
TEXT ·packTranspose8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), DX
	MOVQ kb+24(FP), CX
	LEAQ (DX)(DX*2), BX // 3·stride
	LEAQ (SI)(DX*4), R8 // columns 4..7

t8:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (SI)(BX*1), Y3
	VMOVUPS (R8), Y4
	VMOVUPS (R8)(DX*1), Y5
	VMOVUPS (R8)(DX*2), Y6
	VMOVUPS (R8)(BX*1), Y7
	VUNPCKLPS  Y1, Y0, Y8
	VUNPCKHPS  Y1, Y0, Y9
	VUNPCKLPS  Y3, Y2, Y10
	VUNPCKHPS  Y3, Y2, Y11
	VUNPCKLPS  Y5, Y4, Y12
	VUNPCKHPS  Y5, Y4, Y13
	VUNPCKLPS  Y7, Y6, Y14
	VUNPCKHPS  Y7, Y6, Y15
	VSHUFPS    $0x44, Y10, Y8, Y0
	VSHUFPS    $0xEE, Y10, Y8, Y1
	VSHUFPS    $0x44, Y11, Y9, Y2
	VSHUFPS    $0xEE, Y11, Y9, Y3
	VSHUFPS    $0x44, Y14, Y12, Y4
	VSHUFPS    $0xEE, Y14, Y12, Y5
	VSHUFPS    $0x44, Y15, Y13, Y6
	VSHUFPS    $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS    Y8, (DI)
	VMOVUPS    Y9, 64(DI)
	VMOVUPS    Y10, 128(DI)
	VMOVUPS    Y11, 192(DI)
	VMOVUPS    Y12, 256(DI)
	VMOVUPS    Y13, 320(DI)
	VMOVUPS    Y14, 384(DI)
	VMOVUPS    Y15, 448(DI)
	ADDQ       $32, SI
	ADDQ       $32, R8
	ADDQ       $512, DI
	DECQ       CX
	JNZ        t8
	VZEROUPPER
	RET

// func packRows6(dst *float32, src *float32, srcStride int, kb int)
// The 6-row A panel from six rows with contiguous k (row r at src +
// r·srcStride bytes): for kb blocks of 8 k, the 6×8 block is transposed in
// registers (as packTranspose8, lanes 6 and 7 unused) and row k written as
// 6 floats at dst + 24·k bytes. Each row but the block's last is stored as
// 8 floats; the 2 extra are overwritten by the next row, and the last row
// is stored exactly, so nothing is written past the 8 rows.
TEXT ·packRows6(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), DX
	MOVQ kb+24(FP), CX
	LEAQ (DX)(DX*2), BX // 3·stride
	LEAQ (SI)(DX*4), R8 // rows 4 and 5

r6:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (SI)(BX*1), Y3
	VMOVUPS (R8), Y4
	VMOVUPS (R8)(DX*1), Y5
	VUNPCKLPS  Y1, Y0, Y8
	VUNPCKHPS  Y1, Y0, Y9
	VUNPCKLPS  Y3, Y2, Y10
	VUNPCKHPS  Y3, Y2, Y11
	VUNPCKLPS  Y5, Y4, Y12
	VUNPCKHPS  Y5, Y4, Y13
	VUNPCKLPS  Y5, Y4, Y14
	VUNPCKHPS  Y5, Y4, Y15
	VSHUFPS    $0x44, Y10, Y8, Y0
	VSHUFPS    $0xEE, Y10, Y8, Y1
	VSHUFPS    $0x44, Y11, Y9, Y2
	VSHUFPS    $0xEE, Y11, Y9, Y3
	VSHUFPS    $0x44, Y14, Y12, Y4
	VSHUFPS    $0xEE, Y14, Y12, Y5
	VSHUFPS    $0x44, Y15, Y13, Y6
	VSHUFPS    $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS      Y8, (DI)
	VMOVUPS      Y9, 24(DI)
	VMOVUPS      Y10, 48(DI)
	VMOVUPS      Y11, 72(DI)
	VMOVUPS      Y12, 96(DI)
	VMOVUPS      Y13, 120(DI)
	VMOVUPS      Y14, 144(DI)
	VMOVUPS      X15, 168(DI)
	VEXTRACTF128 $1, Y15, X15
	VMOVSD       X15, 184(DI)
	ADDQ         $32, SI
	ADDQ         $32, R8
	ADDQ         $192, DI
	DECQ         CX
	JNZ          r6
	VZEROUPPER
	RET
