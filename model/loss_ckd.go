package model

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// CKD is STAR's constrained knowledge distillation (spec §7): at every
// response position the student's full log-softmax ls is compared with the
// teacher's top-k log-probs (vals, ids), not renormalised:
//
//	fkl = Σ_k p_t(k)·(log p_t(k) − ls[id_k])
//	rkl = Σ_k p_s(k)·(ls[id_k] − log p_t(k)),   p_s(k) = exp(ls[id_k])
//	akl = head/tail adaptive mix of fkl and rkl (threshold 0.5)
//	penalty = Σ over the student's own top-M tokens not among the teacher's ids of p_s
//	loss_t = kl + TailCoef·penalty
//
// and the loss is KDRatio·masked_mean(loss_t) + (1−KDRatio)·CE.
type CKD struct {
	Seqs [][]int
	// Mask[b][t-1] = 1 for response tokens t (spec: mask "all" completion tokens).
	Mask [][]float32
	// TeacherLogprobs[b][t-1][k], TeacherIDs[b][t-1][k]: the teacher's top-k
	// for the distribution that scores token t (rows outside Mask may be zero).
	TeacherLogprobs [][][]float32
	TeacherIDs      [][][]int
	KLType          string  // "fkl" (STAR), "rkl" or "akl"
	TailCoef        float64 // λ, 10 in STAR; 0 disables the tail penalty
	TopM            int     // M, 100 in STAR
	KDRatio         float64 // 1 = pure distillation
	AKLThreshold    float64 // 0 means 0.5
	// Thresholds[b][t-1], optional: the student's top-M logit thresholds
	// (TopMThresholds); nil finds the top M inside the graph by bisection.
	Thresholds [][]float32
}

func (c *CKD) k() int {
	for _, r := range c.TeacherIDs {
		for _, p := range r {
			if len(p) > 0 {
				return len(p)
			}
		}
	}
	return 0
}

func (c *CKD) Key() string {
	return fmt.Sprintf("ckd:%s:k=%d:l=%g:m=%d:r=%g:a=%g:thr=%v", c.KLType, c.k(), c.TailCoef, c.TopM, c.KDRatio, c.AKLThreshold, c.Thresholds != nil)
}
func (c *CKD) Sequences() [][]int    { return c.Seqs }
func (c *CKD) MetricNames() []string { return []string{"kl", "penalty", "ce"} }

func (c *CKD) Inputs(T int) ([]any, error) {
	switch c.KLType {
	case "fkl", "rkl", "akl":
	default:
		return nil, fmt.Errorf("ckd: kl type %q (fkl, rkl or akl)", c.KLType)
	}
	K := c.k()
	if K == 0 {
		return nil, fmt.Errorf("ckd: no teacher top-k")
	}
	if c.TailCoef != 0 && c.TopM <= 0 {
		return nil, fmt.Errorf("ckd: tail penalty needs TopM > 0")
	}
	mask, err := padMask(c.Seqs, c.Mask, T)
	if err != nil {
		return nil, err
	}
	B := len(c.Seqs)
	vals := make([]float32, B*(T-1)*K)
	ids := make([]int32, B*(T-1)*K)
	if len(c.TeacherIDs) != B || len(c.TeacherLogprobs) != B {
		return nil, fmt.Errorf("ckd: teacher top-k for %d/%d sequences, batch has %d", len(c.TeacherIDs), len(c.TeacherLogprobs), B)
	}
	for b, s := range c.Seqs {
		if len(c.TeacherIDs[b]) != len(s)-1 || len(c.TeacherLogprobs[b]) != len(s)-1 {
			return nil, fmt.Errorf("ckd: sequence %d: teacher rows %d, want %d", b, len(c.TeacherIDs[b]), len(s)-1)
		}
		for t := range len(s) - 1 {
			r, v := c.TeacherIDs[b][t], c.TeacherLogprobs[b][t]
			if len(r) == 0 {
				continue // a position outside the mask
			}
			if len(r) != K || len(v) != K {
				return nil, fmt.Errorf("ckd: sequence %d position %d: %d ids, %d vals, want %d", b, t, len(r), len(v), K)
			}
			for k := range K {
				ids[(b*(T-1)+t)*K+k] = int32(r[k])
				vals[(b*(T-1)+t)*K+k] = v[k]
			}
		}
	}
	in := []any{mask, tensors.FromFlatDataAndDimensions(vals, B, T-1, K), tensors.FromFlatDataAndDimensions(ids, B, T-1, K)}
	if c.Thresholds != nil {
		thr, err := padRows(c.Seqs, c.Thresholds, T, "ckd thresholds")
		if err != nil {
			return nil, err
		}
		in = append(in, thr)
	}
	return in, nil
}

func (c *CKD) Loss(logits, ids *Node, extra []*Node) (*Node, []*Node) {
	mask, tv, tid := extra[0], extra[1], extra[2]
	// STAR's fkl with the top-M given (or no tail penalty) has a hand-written
	// gradient (loss_ckd_fast.go). KDRatio 0 is pure CE: it stays on autodiff,
	// the reference TestCrossEntropyGradient checks CrossEntropy against.
	if c.KLType == "fkl" && c.KDRatio != 0 && (c.TailCoef == 0 || c.Thresholds != nil) {
		var tau *Node
		if c.TailCoef != 0 {
			tau = extra[3]
		}
		return fklHead(logits, ids, mask, tv, tid, tau, c.TailCoef, c.KDRatio)
	}
	logp, ls := tokenLogprobs(logits, ids) // ls [B,T-1,V]
	lsK := gatherLast(ls, tid)             // student log-probs at the teacher's ids
	pt, ps := Exp(tv), Exp(lsK)
	fkl := ReduceSum(Mul(pt, Sub(tv, lsK)), -1)
	rkl := ReduceSum(Mul(ps, Sub(lsK, tv)), -1)
	var kl *Node
	switch c.KLType {
	case "fkl":
		kl = fkl
	case "rkl":
		kl = rkl
	case "akl":
		kl = c.adaptive(pt, ps, fkl, rkl)
	}
	per := kl
	penalty := ZerosLike(kl)
	if c.TailCoef != 0 {
		if c.Thresholds != nil {
			penalty = tailPenaltyAt(logits, ls, lsK, tid, extra[3])
		} else {
			penalty = tailPenalty(ls, lsK, c.TopM)
		}
		per = Add(kl, MulScalar(penalty, c.TailCoef))
	}
	kd := maskedMean(per, mask)
	ce := maskedMean(Neg(logp), mask)
	loss := kd
	if c.KDRatio != 1 {
		loss = Add(MulScalar(kd, c.KDRatio), MulScalar(ce, 1-c.KDRatio))
	}
	return loss, []*Node{maskedMean(kl, mask), maskedMean(penalty, mask), ce}
}

// adaptive is AKL (Wu et al. 2024, their get_ratio) on the teacher's top-k:
// with tokens sorted by teacher probability (the top-k come sorted
// descending), the head is where the cumulative teacher mass is ≤ the
// threshold (the first token always), the tail the rest; the gaps
// Σ|p_t − p_s| over head and tail, without gradient, weight FKL (head) and
// RKL (tail). Probabilities are not renormalised over the top-k, so when the
// top-k mass stays under the threshold AKL is FKL, as the reference has it.
func (c *CKD) adaptive(pt, ps, fkl, rkl *Node) *Node {
	mu := c.AKLThreshold
	if mu == 0 {
		mu = 0.5
	}
	g := pt.Graph()
	dims := pt.Shape().Dimensions
	cum := CumSum(pt, 2)
	tail := GreaterThan(cum, Scalar(g, dtypes.Float32, mu))
	notFirst := BroadcastToDims(Reshape(GreaterThan(Iota(g, shapes.Make(dtypes.Int32, dims[2]), 0), Scalar(g, dtypes.Int32, 0)), 1, 1, dims[2]), dims...)
	tailF := ConvertDType(LogicalAnd(tail, notFirst), dtypes.Float32)
	gap := StopGradient(Abs(Sub(pt, ps)))
	gTail := ReduceSum(Mul(gap, tailF), -1)
	gHead := ReduceSum(Mul(gap, OneMinus(tailF)), -1)
	den := AddScalar(Add(gHead, gTail), 1e-12)
	return Div(Add(Mul(gHead, fkl), Mul(gTail, rkl)), den)
}

// tailPenalty sums the student's probability over its own top-M tokens that
// are not among the teacher's top-k ids:
//
//	Σ_v p_s(v)·[v in top-M] − Σ_k p_s(id_k)·[id_k in top-M]
//
// (the teacher's ids are distinct). The top-M set is {v : ls_v ≥ τ} with τ
// the M-th largest log-prob, found by bisection: GoMLX's TopK sorts with a
// comparator graph per comparison on the Go backend, far too slow for a
// vocabulary. The selection carries no gradient (an index choice); the
// probabilities do. Exact ties at the M-th value would select them all.
func tailPenalty(ls, lsK *Node, M int) *Node {
	dims := ls.Shape().Dimensions
	tau := topMThreshold(StopGradient(ls), M) // [B,T,1]
	inTop := ConvertDType(GreaterOrEqual(ls, BroadcastToDims(tau, dims...)), dtypes.Float32)
	kd := lsK.Shape().Dimensions
	teacherIn := ConvertDType(GreaterOrEqual(lsK, BroadcastToDims(tau, kd...)), dtypes.Float32)
	return Sub(ReduceSum(Mul(Exp(ls), StopGradient(inTop)), -1), ReduceSum(Mul(Exp(lsK), StopGradient(teacherIn)), -1))
}

// topMThreshold returns, per row of x [B,T,V], the largest τ with
// count(x ≥ τ) ≥ M: the M-th largest value, to float32 resolution.
func topMThreshold(x *Node, M int) *Node {
	dims := x.Shape().Dimensions
	lo := ReduceAndKeep(x, ReduceMin, -1) // count(x ≥ lo) = V ≥ M
	hi := ReduceAndKeep(x, ReduceMax, -1)
	if M >= dims[2] {
		return lo
	}
	m := Scalar(x.Graph(), dtypes.Float32, float64(M))
	// 48 halvings take any float32 range down to adjacent values.
	for range 48 {
		mid := MulScalar(Add(lo, hi), 0.5)
		ge := ConvertDType(GreaterOrEqual(x, BroadcastToDims(mid, dims...)), dtypes.Float32)
		enough := GreaterOrEqual(ReduceAndKeep(ge, ReduceSum, -1), BroadcastToDims(m, mid.Shape().Dimensions...))
		lo = Where(enough, mid, lo)
		hi = Where(enough, hi, mid)
	}
	return lo
}
