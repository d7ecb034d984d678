package model

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
)

// fklHead is CKD's loss for KLType "fkl" (STAR's) with its gradient spelled
// out, as CrossEntropy does: autodiff through log_softmax, the gathers and
// the tail penalty's probabilities makes many passes over the [B,T,V]
// logits; here the backward pass is one scaled softmax plus scatters at the
// teacher's ids and the next token. With p = softmax(x), P = Σ_k p_t(k),
// S = the student's top-M outside the teacher's ids, pen = Σ_{v∈S} p(v),
// r = KDRatio, λ = TailCoef, per scored row:
//
//	∂fkl/∂x = P·p − Σ_k p_t(k)·e(id_k)
//	∂pen/∂x = p·([v ∈ top-M] − pen) − Σ_k p(id_k)·[id_k ∈ top-M]·e(id_k)
//	∂ce/∂x  = p − e(next)
//
// and the loss r·(fkl + λ·pen) + (1−r)·ce, each a masked mean. tau holds the
// top-M logit thresholds (TopMThresholds); nil when λ = 0. The values match
// the autodiff path (TestCKDLossesMatchReference, TestCKDWithThresholds).
func fklHead(logits, ids, mask, tv, tid, tau *Node, lambda, ratio float64) (*Node, []*Node) {
	T := ids.Shape().Dimensions[1]
	x := logits
	xs := StopGradient(x)
	w := Div(mask, MaxScalar(ReduceAllSum(mask), 1e-12)) // [B,T-1]
	p := StopGradient(Softmax(xs, -1))                   // [B,T-1,V]
	// log Σ exp(x) = max x − log max p (max p ≥ 1/V never underflows).
	lse := Sub(ReduceMax(xs, -1), Log(ReduceMax(p, -1))) // [B,T-1]
	lseK := BroadcastToDims(InsertAxes(lse, -1), tv.Shape().Dimensions...)
	next := InsertAxes(SliceAxis(ids, 1, AxisRange(1, T)), -1) // [B,T-1,1]

	xK := gatherLast(x, tid) // the gradient flows back through the gathers: scatters
	lsK := Sub(StopGradient(xK), lseK)
	pt := Exp(tv)
	Pt := ReduceSum(pt, -1)
	fkl := ReduceSum(Mul(pt, Sub(tv, lsK)), -1) // [B,T-1]
	xy := Squeeze(gatherLast(x, next), -1)
	ce := Sub(lse, StopGradient(xy))

	// Dense coefficient of x: p·(a + λr·[top-M]) with a = r·(P − λ·pen) + (1−r).
	dense := ZerosLike(tv) // sparse coefficient at the teacher's ids
	penalty := ZerosLike(fkl)
	a := AddScalar(MulScalar(Pt, ratio), 1-ratio)
	var coef *Node
	if lambda != 0 {
		thr := InsertAxes(tau, -1)
		inTop := ConvertDType(GreaterOrEqual(xs, BroadcastToDims(thr, xs.Shape().Dimensions...)), dtypes.Float32)
		pInTop := Mul(p, inTop)
		teacherIn := ConvertDType(GreaterOrEqual(StopGradient(xK), BroadcastToDims(thr, tid.Shape().Dimensions...)), dtypes.Float32)
		psKIn := Mul(Exp(lsK), teacherIn)
		penalty = Sub(ReduceSum(pInTop, -1), ReduceSum(psKIn, -1))
		a = Sub(a, MulScalar(penalty, ratio*lambda))
		coef = Add(Mul(p, bcast(a, p)), MulScalar(pInTop, ratio*lambda))
		dense = MulScalar(psKIn, -ratio*lambda)
	} else {
		coef = Mul(p, bcast(a, p))
	}
	sparse := Sub(dense, MulScalar(pt, ratio)) // [B,T-1,K]

	kd := maskedMean(Add(fkl, MulScalar(penalty, lambda)), mask)
	ceMean := maskedMean(ce, mask)
	value := Add(MulScalar(kd, ratio), MulScalar(ceMean, 1-ratio))
	// The surrogate's gradient is w·(coef + scatter(sparse at ids) − (1−r)·e(next)).
	sur := Add(ReduceSum(Mul(StopGradient(coef), x), -1), ReduceSum(Mul(StopGradient(sparse), xK), -1))
	if ratio != 1 {
		sur = Sub(sur, MulScalar(xy, 1-ratio))
	}
	surrogate := ReduceAllSum(Mul(StopGradient(w), sur))
	loss := Add(StopGradient(value), Sub(surrogate, StopGradient(surrogate)))
	return loss, []*Node{maskedMean(fkl, mask), maskedMean(penalty, mask), ceMean}
}

// bcast broadcasts a per-row [B,T] value over the last axis of like.
func bcast(row, like *Node) *Node {
	return BroadcastToDims(InsertAxes(row, -1), like.Shape().Dimensions...)
}
