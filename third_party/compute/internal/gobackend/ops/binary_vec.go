// Copyright 2026 The STAR-Go Authors. SPDX-License-Identifier: Apache-2.0
// (Patch to github.com/gomlx/compute v0.1.4; see third_party/PATCHES.md.)

package ops

import (
	"sync/atomic"

	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/vecmath"
)

// float32 Add/Sub/Mul/Div ran as scalar Go loops on one core: a fifth of a
// small transformer's training step. Here every form (same shapes, a scalar
// on either side, broadcast runs as in binary_fast.go) runs through
// internal/vecmath's eight-lane kernels, and large outputs are split into
// chunks taken by the backend's free workers. Each element is still one
// IEEE operation, so results are bit-identical to the scalar loops.

// binaryMinParallel is the output size below which one goroutine does it.
const binaryMinParallel = 1 << 16

// binaryChunk is the number of output elements one worker takes at a time.
const binaryChunk = 1 << 14

var vecOps = [...]vecmath.Op{opAdd: vecmath.Add, opSub: vecmath.Sub, opMul: vecmath.Mul, opDiv: vecmath.Div}

// binaryFloat32 computes output = lhs op rhs for float32 buffers and reports
// false when the shapes need the generic path (ranks differ, or broadcast
// runs shorter than 8).
func binaryFloat32(backend *gobackend.Backend, op binaryOp, lhs, rhs, output *gobackend.Buffer) bool {
	l, r, o := lhs.Flat.([]float32), rhs.Flat.([]float32), output.Flat.([]float32)
	var p broadcastRuns
	switch {
	case len(r) == 1 && len(l) == len(o):
		p = broadcastRuns{n: len(o), lhsStep: 1}
	case len(l) == 1 && len(r) == len(o):
		p = broadcastRuns{n: len(o), rhsStep: 1}
	case lhs.RawShape.Equal(rhs.RawShape):
		p = broadcastRuns{n: len(o), lhsStep: 1, rhsStep: 1}
	default:
		var ok bool
		p, ok = planBroadcast(lhs.RawShape, rhs.RawShape, output.RawShape)
		if !ok || p.n < 8 {
			return false
		}
	}
	runBinary32(backend, vecOps[op], &p, l, r, o)
	return true
}

// runBinary32 runs plan p over o, in chunks across the backend's workers
// when o is large: whole runs per chunk, or pieces of the run when there is
// only one.
func runBinary32(backend *gobackend.Backend, op vecmath.Op, p *broadcastRuns, l, r, o []float32) {
	runs := len(o) / max(p.n, 1)
	if len(o) == 0 {
		return
	}
	var tasks, per int // chunks, and elements (one run) or runs (several) per chunk
	if runs == 1 {
		per = binaryChunk
		tasks = (len(o) + per - 1) / per
	} else {
		per = max(1, binaryChunk/p.n)
		tasks = (runs + per - 1) / per
	}
	do := func(t int) {
		if runs == 1 {
			lo, hi := t*per, min((t+1)*per, len(o))
			p.run(op, o[lo:hi], l[lo*p.lhsStep:], r[lo*p.rhsStep:])
			return
		}
		p.runs(op, l, r, o, t*per, min((t+1)*per, runs))
	}
	workers := 1
	if backend != nil && backend.Workers != nil && len(o) >= binaryMinParallel {
		workers = min(backend.Workers.AdjustedMaxParallelism(), tasks)
	}
	if workers <= 1 {
		for t := range tasks {
			do(t)
		}
		return
	}
	var next atomic.Int64
	backend.Workers.Saturate(func() {
		for {
			t := int(next.Add(1)) - 1
			if t >= tasks {
				return
			}
			do(t)
		}
	})
}

// run computes one run o = a op b, where a and b start at the run's first
// element and advance only on the sides whose step is 1.
func (p *broadcastRuns) run(op vecmath.Op, o, a, b []float32) {
	switch {
	case p.lhsStep == 1 && p.rhsStep == 1:
		vecmath.BinaryVV(op, o, a, b)
	case p.lhsStep == 1:
		vecmath.BinaryVS(op, o, a, b[0])
	case p.rhsStep == 1:
		vecmath.BinarySV(op, o, a[0], b)
	default:
		var v [1]float32
		vecmath.BinaryVV(op, v[:], a, b)
		for i := range o {
			o[i] = v[0]
		}
	}
}

// runs computes runs [lo,hi): the offsets of run lo come from its index
// over the outer axes, then the odometer advances as in broadcastBinary.
func (p *broadcastRuns) runs(op vecmath.Op, l, r, o []float32, lo, hi int) {
	k := len(p.outer)
	idx := make([]int, k)
	lhsAt, rhsAt := 0, 0
	for i, rest := k-1, lo; i >= 0; i-- {
		idx[i] = rest % p.outer[i]
		rest /= p.outer[i]
		lhsAt += idx[i] * p.lhsOuter[i]
		rhsAt += idx[i] * p.rhsOuter[i]
	}
	for run := lo; run < hi; run++ {
		outAt := run * p.n
		p.run(op, o[outAt:outAt+p.n], l[lhsAt:], r[rhsAt:])
		for i := k - 1; i >= 0; i-- {
			idx[i]++
			lhsAt += p.lhsOuter[i]
			rhsAt += p.rhsOuter[i]
			if idx[i] < p.outer[i] {
				break
			}
			lhsAt -= p.lhsOuter[i] * p.outer[i]
			rhsAt -= p.rhsOuter[i] * p.outer[i]
			idx[i] = 0
		}
	}
}
