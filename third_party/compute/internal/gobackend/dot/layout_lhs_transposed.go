// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package dot

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
)

// Layouts with the LHS contracting axis first: lhs [batch, K, M]. Gradients
// of x·W contract over the token axes, which come first (dW = dYᵀ·X); the
// two upstream layouts need them last and cost a transpose of the whole
// activation gradient (for an LM head, [tokens, vocab]) per product. Only
// kernels that read their operands through strides register these layouts
// (the assembly float32 GEMM); without one, DotGeneral transposes as before.
const (
	// LayoutLHSTransposed is lhs [batch, K, M] · rhs [batch, K, N].
	LayoutLHSTransposed Layout = LayoutIncompatible + 1 + iota
	// LayoutBothTransposed is lhs [batch, K, M] · rhs [batch, N, K].
	LayoutBothTransposed
)

// lhsTransposedLayout returns LayoutLHSTransposed or LayoutBothTransposed
// when the (already axis-merged) operands have those forms, else
// LayoutIncompatible.
func lhsTransposedLayout(lhsShape shapes.Shape, lhsContractingAxes, lhsBatchAxes []int,
	rhsShape shapes.Shape, rhsContractingAxes, rhsBatchAxes []int) Layout {
	if len(lhsContractingAxes) != 1 || len(rhsContractingAxes) != 1 {
		return LayoutIncompatible
	}
	numBatch := len(lhsBatchAxes)
	if numBatch > 1 || len(rhsBatchAxes) != numBatch {
		return LayoutIncompatible
	}
	for i := range numBatch {
		if lhsBatchAxes[i] != i || rhsBatchAxes[i] != i {
			return LayoutIncompatible
		}
	}
	if lhsShape.Rank() != numBatch+2 || rhsShape.Rank() != numBatch+2 || lhsContractingAxes[0] != numBatch {
		return LayoutIncompatible
	}
	switch rhsContractingAxes[0] {
	case numBatch:
		return LayoutLHSTransposed
	case numBatch + 1:
		return LayoutBothTransposed
	}
	return LayoutIncompatible
}

// stridedLayoutFor returns an LHS-transposed layout for the operands when a
// registered implementation takes it, so no transpose is needed.
func stridedLayoutFor(lhs, rhs shapes.Shape, params *NodeData) Layout {
	acc := params.Config.AccumulatorDType
	if params.InputDType != dtypes.Float32 || (acc != dtypes.InvalidDType && acc != dtypes.Float32) {
		return LayoutIncompatible
	}
	layout := lhsTransposedLayout(lhs, params.LHSContractingAxes, params.LHSBatchAxes,
		rhs, params.RHSContractingAxes, params.RHSBatchAxes)
	if layout == LayoutIncompatible || FindRegisteredImplementation(layout, dtypes.Float32, dtypes.Float32) == nil {
		return LayoutIncompatible
	}
	return layout
}
