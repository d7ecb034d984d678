package model

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/star-go/star/internal/parallel"
)

// TopMThresholds returns, for each sequence and each scored position t-1
// (t = 1..n-1), a logit threshold that selects exactly the model's M most
// likely tokens there: the midpoint between the M-th and the (M+1)-th
// largest logit. CKD's tail penalty takes it as CKD.Thresholds instead of
// finding the top M inside the loss graph by bisection (48 full passes over
// the [B,T,V] log-probs, most of a CKD step at a real vocabulary); the
// midpoint keeps the selection stable against the last-bit differences
// between this forward pass and the loss graph's.
func (m *Model) TopMThresholds(seqs [][]int, M int) ([][]float32, error) {
	if M < 1 {
		return nil, fmt.Errorf("top-M thresholds: M = %d", M)
	}
	out := make([][]float32, len(seqs))
	// One sequence at a time: a batch's logits on the host would be
	// tokens × vocabulary floats (over a GB at Qwen3's vocabulary).
	for b, s := range seqs {
		logits, err := m.Logits([][]int{s})
		if err != nil {
			return nil, err
		}
		rows := logits[0]
		n := max(len(rows)-1, 0)
		out[b] = parallel.Map(0, rows[:n], func(_ int, row []float32) float32 { return topMThreshold32(row, M) })
	}
	return out, nil
}

// topMThreshold32 is the midpoint between the M-th and (M+1)-th largest
// values of row (below the minimum when M ≥ len(row)).
func topMThreshold32(row []float32, M int) float32 {
	if M >= len(row) {
		return float32(math.Inf(-1))
	}
	// The M+1 largest, by a partial selection: keep a sorted window.
	top := make([]float32, 0, M+1)
	for _, v := range row {
		if len(top) == M+1 && v <= top[M] {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, v, func(a, b float32) int {
			switch {
			case a > b:
				return -1
			case a < b:
				return 1
			}
			return 0
		})
		if len(top) < M+1 {
			top = slices.Insert(top, i, v)
		} else {
			copy(top[i+1:], top[i:M])
			top[i] = v
		}
	}
	return top[M-1]/2 + top[M]/2
}

// tailPenaltyAt is tailPenalty with the student's top-M set given by logit
// thresholds tau [B,T-1] (TopMThresholds): one comparison pass instead of a
// bisection. Logits and log-probs differ by a per-row constant, so the set
// is the same.
func tailPenaltyAt(logits, ls, lsK, tid, tau *Node) *Node {
	x := StopGradient(logits)
	t := InsertAxes(tau, -1) // [B,T-1,1]
	inTop := ConvertDType(GreaterOrEqual(x, BroadcastToDims(t, x.Shape().Dimensions...)), dtypes.Float32)
	xK := gatherLast(x, tid)
	teacherIn := ConvertDType(GreaterOrEqual(xK, BroadcastToDims(t, xK.Shape().Dimensions...)), dtypes.Float32)
	return Sub(ReduceSum(Mul(Exp(ls), StopGradient(inTop)), -1), ReduceSum(Mul(Exp(lsK), StopGradient(teacherIn)), -1))
}

// TopKLogprobsFrom is TopKLogprobs for one sequence, only at the rows
// first..len(seq)-2 (row r scores token r+1), computed in parallel: a
// teacher's top-k at the target positions, without the host work of a
// log-softmax over the vocabulary at every prompt position.
func (m *Model) TopKLogprobsFrom(seq []int, first, k int) (vals [][]float32, ids [][]int, err error) {
	if first < 0 || first > len(seq)-1 {
		return nil, nil, fmt.Errorf("top-k logprobs: first row %d of a %d-token sequence", first, len(seq))
	}
	logits, err := m.Logits([][]int{seq})
	if err != nil {
		return nil, nil, err
	}
	type row struct {
		v  []float32
		id []int
	}
	rows := parallel.Map(0, logits[0][first:len(seq)-1], func(_ int, x []float32) row {
		lp := logSoftmax(x)
		var r row
		for _, i := range topIndices(lp, k) {
			r.v, r.id = append(r.v, float32(lp[i])), append(r.id, i)
		}
		return r
	})
	for _, r := range rows {
		vals, ids = append(vals, r.v), append(ids, r.id)
	}
	return vals, ids, nil
}
