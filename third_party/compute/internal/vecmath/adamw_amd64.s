// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

//go:build amd64

#include "textflag.h"

// Constants in adamwConsts, eight lanes each.
#define GS 0(AX)
#define B1 32(AX)
#define OB1 64(AX)
#define B2 96(AX)
#define OB2 128(AX)
#define DECAY 160(AX)
#define STEP 192(AX)
#define IBC2 224(AX)
#define EPS 256(AX)

// One AdamW update of eight elements at offset OFF, in registers G, M, V, P,
// T (the operation order of AdamW.Update's Go loop; IEEE + and × commute).
#define ADAM8(OFF, G, M, V, P, T) \
	VMOVUPS OFF(BX), G; \
	VMULPS  GS, G, G; \
	VMOVUPS OFF(SI), M; \
	VMULPS  B1, M, M; \
	VMULPS  OB1, G, T; \
	VADDPS  T, M, M; \
	VMOVUPS M, OFF(SI); \
	VMOVUPS OFF(DX), V; \
	VMULPS  B2, V, V; \
	VMULPS  OB2, G, T; \
	VMULPS  G, T, T; \
	VADDPS  T, V, V; \
	VMOVUPS V, OFF(DX); \
	VSQRTPS V, V; \
	VMULPS  IBC2, V, V; \
	VADDPS  EPS, V, V; \
	VMULPS  STEP, M, M; \
	VDIVPS  V, M, M; \
	VMOVUPS OFF(DI), P; \
	VMULPS  DECAY, P, P; \
	VSUBPS  M, P, P; \
	VMOVUPS P, OFF(DI)

// func adamwAVX2(p, m, v, grad *float32, n int, k *adamwConsts)
// n is a multiple of 8.
TEXT ·adamwAVX2(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ m+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ grad+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX

adam16:
	CMPQ CX, $16
	JL   adam8
	ADAM8(0, Y0, Y1, Y2, Y3, Y4)
	ADAM8(32, Y5, Y6, Y7, Y8, Y9)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  adam16

adam8:
	CMPQ CX, $8
	JL   adamdone
	ADAM8(0, Y0, Y1, Y2, Y3, Y4)

adamdone:
	VZEROUPPER
	RET

// func sumSquaresAVX2(x *float32, n int) float64
// n is a multiple of 16: four float64 accumulators of four lanes.
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

ss16:
	CMPQ        CX, $16
	JL          ssdone
	VCVTPS2PD   (SI), Y4
	VCVTPS2PD   16(SI), Y5
	VCVTPS2PD   32(SI), Y6
	VCVTPS2PD   48(SI), Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ        $64, SI
	SUBQ        $16, CX
	JMP         ss16

ssdone:
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VADDPD       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0
	VZEROUPPER
	MOVSD        X0, ret+16(FP)
	RET
