// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

#include "textflag.h"

// Elementwise float32 kernels, eight lanes per instruction, 32 elements per
// iteration; n is a multiple of 8 (Go does the tail). Plain IEEE operations,
// so the results are bit-identical to the scalar Go loops.

// VV: o[i] = a[i] OP b[i].
#define VV(NAME, OP) \
TEXT NAME(SB), NOSPLIT, $0-32; \
	MOVQ o+0(FP), DI; \
	MOVQ a+8(FP), SI; \
	MOVQ b+16(FP), DX; \
	MOVQ n+24(FP), CX; \
vv32:; \
	CMPQ CX, $32; \
	JL   vv8; \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), Y1; \
	VMOVUPS 64(SI), Y2; \
	VMOVUPS 96(SI), Y3; \
	OP (DX), Y0, Y0; \
	OP 32(DX), Y1, Y1; \
	OP 64(DX), Y2, Y2; \
	OP 96(DX), Y3, Y3; \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ $128, SI; \
	ADDQ $128, DX; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	JMP  vv32; \
vv8:; \
	CMPQ CX, $8; \
	JL   vvdone; \
	VMOVUPS (SI), Y0; \
	OP (DX), Y0, Y0; \
	VMOVUPS Y0, (DI); \
	ADDQ $32, SI; \
	ADDQ $32, DX; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JMP  vv8; \
vvdone:; \
	VZEROUPPER; \
	RET

// VS: o[i] = a[i] OP s.
#define VS(NAME, OP) \
TEXT NAME(SB), NOSPLIT, $0-32; \
	MOVQ o+0(FP), DI; \
	MOVQ a+8(FP), SI; \
	VBROADCASTSS s+16(FP), Y4; \
	MOVQ n+24(FP), CX; \
vs32:; \
	CMPQ CX, $32; \
	JL   vs8; \
	VMOVUPS (SI), Y0; \
	VMOVUPS 32(SI), Y1; \
	VMOVUPS 64(SI), Y2; \
	VMOVUPS 96(SI), Y3; \
	OP Y4, Y0, Y0; \
	OP Y4, Y1, Y1; \
	OP Y4, Y2, Y2; \
	OP Y4, Y3, Y3; \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	JMP  vs32; \
vs8:; \
	CMPQ CX, $8; \
	JL   vsdone; \
	VMOVUPS (SI), Y0; \
	OP Y4, Y0, Y0; \
	VMOVUPS Y0, (DI); \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JMP  vs8; \
vsdone:; \
	VZEROUPPER; \
	RET

// SV: o[i] = s OP b[i].
#define SV(NAME, OP) \
TEXT NAME(SB), NOSPLIT, $0-32; \
	MOVQ o+0(FP), DI; \
	VBROADCASTSS s+8(FP), Y4; \
	MOVQ b+16(FP), DX; \
	MOVQ n+24(FP), CX; \
sv32:; \
	CMPQ CX, $32; \
	JL   sv8; \
	OP (DX), Y4, Y0; \
	OP 32(DX), Y4, Y1; \
	OP 64(DX), Y4, Y2; \
	OP 96(DX), Y4, Y3; \
	VMOVUPS Y0, (DI); \
	VMOVUPS Y1, 32(DI); \
	VMOVUPS Y2, 64(DI); \
	VMOVUPS Y3, 96(DI); \
	ADDQ $128, DX; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	JMP  sv32; \
sv8:; \
	CMPQ CX, $8; \
	JL   svdone; \
	OP (DX), Y4, Y0; \
	VMOVUPS Y0, (DI); \
	ADDQ $32, DX; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JMP  sv8; \
svdone:; \
	VZEROUPPER; \
	RET

VV(·addVVAVX2, VADDPS)
VV(·subVVAVX2, VSUBPS)
VV(·mulVVAVX2, VMULPS)
VV(·divVVAVX2, VDIVPS)
VS(·addVSAVX2, VADDPS)
VS(·subVSAVX2, VSUBPS)
VS(·mulVSAVX2, VMULPS)
VS(·divVSAVX2, VDIVPS)
SV(·subSVAVX2, VSUBPS)
SV(·divSVAVX2, VDIVPS)

// func maxAVX2(x *float32, n int) float32
// n is a positive multiple of 8. A NaN anywhere gives NaN (VMAXPS alone
// would drop it), tracked by an unordered compare of the loaded pairs.
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3
	VCMPPS  $3, Y0, Y0, Y6
	ADDQ    $32, SI
	SUBQ    $8, CX

max32:
	CMPQ    CX, $32
	JL      max8
	VMOVUPS (SI), Y8
	VMOVUPS 32(SI), Y9
	VMOVUPS 64(SI), Y10
	VMOVUPS 96(SI), Y11
	VMAXPS  Y8, Y0, Y0
	VMAXPS  Y9, Y1, Y1
	VMAXPS  Y10, Y2, Y2
	VMAXPS  Y11, Y3, Y3
	VCMPPS  $3, Y9, Y8, Y12
	VCMPPS  $3, Y11, Y10, Y13
	VORPS   Y12, Y6, Y6
	VORPS   Y13, Y6, Y6
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     max32

max8:
	CMPQ    CX, $8
	JL      maxreduce
	VMOVUPS (SI), Y8
	VMAXPS  Y8, Y0, Y0
	VCMPPS  $3, Y8, Y8, Y12
	VORPS   Y12, Y6, Y6
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     max8

maxreduce:
	VMAXPS       Y1, Y0, Y0
	VMAXPS       Y3, Y2, Y2
	VMAXPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VMOVMSKPS    Y6, AX
	VZEROUPPER
	TESTL        AX, AX
	JNZ          maxnan
	MOVSS        X0, ret+16(FP)
	RET

maxnan:
	MOVL $0x7fc00000, AX
	MOVL AX, ret+16(FP)
	RET
