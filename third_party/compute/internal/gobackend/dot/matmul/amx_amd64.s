// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

#include "textflag.h"

// AMX instructions, hand-encoded (the Go assembler does not know them). All
// are VEX.128 0F38 W0; every register used in an address is one of AX..DI, so
// the VEX R/X/B bits stay clear (second byte 0xE2). Encodings from the Intel
// SDM, checked against LLVM's MC tests.
//
//   LDTILECFG (AX)        C4 E2 78 49 00
//   TILERELEASE           C4 E2 78 49 C0
//   TILEZERO tmm r        C4 E2 7B 49 C0|r<<3
//   TILELOADD (base,idx*1), tmm r   C4 E2 7B 4B (r<<3|4) (idx<<3|base)
//   TILESTORED (base,idx*1), tmm r  C4 E2 7A 4B (r<<3|4) (idx<<3|base)
//   TDPBF16PS d, a, b     C4 E2 (~b&15)<<3|2 5C C0|d<<3|a
//
// Tiles: tmm0..3 hold C (rows 0-15 × cols 0-15, 0-15 × 16-31, 16-31 × 0-15,
// 16-31 × 16-31), tmm4/5 the two 16-row A tiles of one k step, tmm6/7 the
// two 16-column B tiles.

// func amxBF16Kernel(cfg *byte, a, b *uint16, kt int, c *float32, ldc, nb int, accumulate bool)
//
// For nb consecutive 32-column blocks of packed B, C[32×32] (row stride ldc
// floats, blocks 32 floats apart) = or += A·B over kt steps of 32 k. a is one
// 32-row block packed as [kt][2][16][32] bf16, b is nb blocks of
// [kt][2][16 k pairs][16 cols × 2] bf16 one after another. The whole tile
// sequence, from LDTILECFG to TILERELEASE, is inside this function: assembly
// functions are never asynchronously preempted, so no Go code runs on this
// thread while tiles are configured (a signal handler may run, but the kernel
// saves and restores the tile state around it with the rest of XSAVE).
TEXT ·amxBF16Kernel(SB), NOSPLIT, $0-57
	MOVQ cfg+0(FP), AX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x78; BYTE $0x49; BYTE $0x00 // LDTILECFG (AX)
	MOVQ b+16(FP), DI
	MOVQ c+32(FP), R10
	MOVQ ldc+40(FP), DX
	SHLQ $2, DX
	MOVQ nb+48(FP), R11
	MOVQ $64, BX
	MOVQ DX, R12
	SHLQ $4, R12 // 16 rows of C

block:
	TESTQ R11, R11
	JLE done
	MOVQ a+8(FP), SI
	MOVQ kt+24(FP), R8
	MOVBLZX accumulate+56(FP), R9
	TESTQ R9, R9
	JNE loadc
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xC0 // TILEZERO tmm0
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xC8 // TILEZERO tmm1
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xD0 // TILEZERO tmm2
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x49; BYTE $0xD8 // TILEZERO tmm3
	JMP kloop

loadc:
	MOVQ R10, AX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x04; BYTE $0x10 // TILELOADD (AX,DX,1), tmm0
	LEAQ 64(R10), AX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x0C; BYTE $0x10 // TILELOADD (AX,DX,1), tmm1
	LEAQ (R10)(R12*1), AX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x14; BYTE $0x10 // TILELOADD (AX,DX,1), tmm2
	LEAQ 64(AX), AX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x1C; BYTE $0x10 // TILELOADD (AX,DX,1), tmm3

kloop:
	TESTQ R8, R8
	JLE store
	LEAQ 1024(SI), AX
	LEAQ 1024(DI), CX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x24; BYTE $0x1E // TILELOADD (SI,BX,1), tmm4
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x34; BYTE $0x1F // TILELOADD (DI,BX,1), tmm6
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x3C; BYTE $0x19 // TILELOADD (CX,BX,1), tmm7
	BYTE $0xC4; BYTE $0xE2; BYTE $0x4A; BYTE $0x5C; BYTE $0xC4 // TDPBF16PS tmm0, tmm4, tmm6
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7B; BYTE $0x4B; BYTE $0x2C; BYTE $0x18 // TILELOADD (AX,BX,1), tmm5
	BYTE $0xC4; BYTE $0xE2; BYTE $0x42; BYTE $0x5C; BYTE $0xCC // TDPBF16PS tmm1, tmm4, tmm7
	BYTE $0xC4; BYTE $0xE2; BYTE $0x4A; BYTE $0x5C; BYTE $0xD5 // TDPBF16PS tmm2, tmm5, tmm6
	BYTE $0xC4; BYTE $0xE2; BYTE $0x42; BYTE $0x5C; BYTE $0xDD // TDPBF16PS tmm3, tmm5, tmm7
	ADDQ $2048, SI
	ADDQ $2048, DI
	DECQ R8
	JMP kloop

store:
	MOVQ R10, AX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7A; BYTE $0x4B; BYTE $0x04; BYTE $0x10 // TILESTORED (AX,DX,1), tmm0
	LEAQ 64(R10), AX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7A; BYTE $0x4B; BYTE $0x0C; BYTE $0x10 // TILESTORED (AX,DX,1), tmm1
	LEAQ (R10)(R12*1), AX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7A; BYTE $0x4B; BYTE $0x14; BYTE $0x10 // TILESTORED (AX,DX,1), tmm2
	LEAQ 64(AX), AX
	BYTE $0xC4; BYTE $0xE2; BYTE $0x7A; BYTE $0x4B; BYTE $0x1C; BYTE $0x10 // TILESTORED (AX,DX,1), tmm3
	ADDQ $128, R10
	DECQ R11
	JMP block

done:
	BYTE $0xC4; BYTE $0xE2; BYTE $0x78; BYTE $0x49; BYTE $0xC0 // TILERELEASE
	RET

// Packing with rounding to bfloat16 (ties to even) in 32-bit lanes:
// bits + 0x7fff + (bits>>16 & 1), the bf16 in the high half. NaNs whose
// mantissa is near all ones may round to infinity or change sign (the Go
// toBF16 keeps them NaN); a NaN operand is already a failed step.

#define AMX_CONSTS \
	MOVL $0x7fff, AX; VPBROADCASTD AX, Z30 \
	MOVL $1, AX; VPBROADCASTD AX, Z31 \
	MOVL $0xffff0000, AX; VPBROADCASTD AX, Z29

#define AMX_ROUND(z, t) \
	VPSRLD $16, z, t \
	VPANDD Z31, t, t \
	VPADDD Z30, z, z \
	VPADDD t, z, z

// func amxPackRows(dst *uint16, src *float32, srcStride, rows int)
//
// Rounds 32 floats of each of rows rows (srcStride floats apart) to bf16,
// stored 64 bytes apart: one A tile, rows of 32 k.
TEXT ·amxPackRows(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), DX
	SHLQ $2, DX
	MOVQ rows+24(FP), CX
	AMX_CONSTS

rowsloop:
	TESTQ CX, CX
	JLE rowsdone
	VMOVDQU32 (SI), Z0
	VMOVDQU32 64(SI), Z2
	AMX_ROUND(Z0, Z1)
	AMX_ROUND(Z2, Z3)
	VPSRLD $16, Z0, Z0
	VPSRLD $16, Z2, Z2
	VPMOVDW Z0, (DI)
	VPMOVDW Z2, 32(DI)
	ADDQ DX, SI
	ADDQ $64, DI
	DECQ CX
	JMP rowsloop

rowsdone:
	VZEROUPPER
	RET

// func amxPackPairs(dst *uint16, src *float32, srcStride, pairs int)
//
// For each pair of rows (2q, 2q+1), srcStride floats apart, of 16 floats,
// stores their bf16 values interleaved (row 2q in the low half of each
// 32-bit lane) 64 bytes apart: one B tile, rows of 16 k pairs.
TEXT ·amxPackPairs(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), DX
	SHLQ $2, DX
	MOVQ pairs+24(FP), CX
	AMX_CONSTS

pairsloop:
	TESTQ CX, CX
	JLE pairsdone
	VMOVDQU32 (SI), Z0
	VMOVDQU32 (SI)(DX*1), Z2
	AMX_ROUND(Z0, Z1)
	AMX_ROUND(Z2, Z3)
	VPSRLD $16, Z0, Z0
	VPANDD Z29, Z2, Z2
	VPORD Z2, Z0, Z0
	VMOVDQU32 Z0, (DI)
	LEAQ (SI)(DX*2), SI
	ADDQ $64, DI
	DECQ CX
	JMP pairsloop

pairsdone:
	VZEROUPPER
	RET

// Lane i of amxScatterIdx is i·64: one tile row per lane.
DATA amxScatterIdx<>+0(SB)/4, $0
DATA amxScatterIdx<>+4(SB)/4, $64
DATA amxScatterIdx<>+8(SB)/4, $128
DATA amxScatterIdx<>+12(SB)/4, $192
DATA amxScatterIdx<>+16(SB)/4, $256
DATA amxScatterIdx<>+20(SB)/4, $320
DATA amxScatterIdx<>+24(SB)/4, $384
DATA amxScatterIdx<>+28(SB)/4, $448
DATA amxScatterIdx<>+32(SB)/4, $512
DATA amxScatterIdx<>+36(SB)/4, $576
DATA amxScatterIdx<>+40(SB)/4, $640
DATA amxScatterIdx<>+44(SB)/4, $704
DATA amxScatterIdx<>+48(SB)/4, $768
DATA amxScatterIdx<>+52(SB)/4, $832
DATA amxScatterIdx<>+56(SB)/4, $896
DATA amxScatterIdx<>+60(SB)/4, $960
GLOBL amxScatterIdx<>(SB), RODATA, $64

// func amxPackRowsT(dst *uint16, src *float32, srcStride int)
//
// B transposed ([N,K], k contiguous): for each of 16 columns j (srcStride
// floats apart), rounds its 32 k values to bf16 and scatters its 16 k pairs
// (32 bits each) down column j of a B tile: pair q to dst + q·64 + j·4.
TEXT ·amxPackRowsT(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), DX
	SHLQ $2, DX
	MOVQ $16, CX
	AMX_CONSTS
	VMOVDQU32 amxScatterIdx<>(SB), Z28

rowsTloop:
	VMOVDQU32 (SI), Z0
	VMOVDQU32 64(SI), Z2
	AMX_ROUND(Z0, Z1)
	AMX_ROUND(Z2, Z3)
	VPSRLD $16, Z0, Z0
	VPSRLD $16, Z2, Z2
	VPMOVDW Z0, Y0
	VPMOVDW Z2, Y2
	VINSERTI64X4 $1, Y2, Z0, Z0
	KXNORW K0, K0, K1
	VPSCATTERDD Z0, K1, (DI)(Z28*1)
	ADDQ DX, SI
	ADDQ $4, DI
	DECQ CX
	JNE rowsTloop
	VZEROUPPER
	RET

// func amxPackPairsT(dst *uint16, src *float32, srcStride int)
//
// A transposed ([K,M], m contiguous): for each of 16 pairs of k rows
// (srcStride floats apart) of 16 m, rounds them to bf16, interleaves them as
// amxPackPairs does and scatters the 16 pairs down column q of an A tile:
// row m's pair q to dst + m·64 + q·4.
TEXT ·amxPackPairsT(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), DX
	SHLQ $2, DX
	MOVQ $16, CX
	AMX_CONSTS
	VMOVDQU32 amxScatterIdx<>(SB), Z28

pairsTloop:
	VMOVDQU32 (SI), Z0
	VMOVDQU32 (SI)(DX*1), Z2
	AMX_ROUND(Z0, Z1)
	AMX_ROUND(Z2, Z3)
	VPSRLD $16, Z0, Z0
	VPANDD Z29, Z2, Z2
	VPORD Z2, Z0, Z0
	KXNORW K0, K0, K1
	VPSCATTERDD Z0, K1, (DI)(Z28*1)
	LEAQ (SI)(DX*2), SI
	ADDQ $4, DI
	DECQ CX
	JNE pairsTloop
	VZEROUPPER
	RET
