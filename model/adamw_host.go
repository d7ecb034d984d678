package model

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gomlx/compute/gobackend/vecmath"
	"github.com/gomlx/gomlx/core/tensors"
)

// The AdamW step on engines whose tensors live in host memory (the Go
// backend). updateGraph spells the update as about 18 elementwise ops per
// parameter, each a full pass that reads and writes memory; here it is one
// fused pass per element (vecmath.AdamW: eight lanes of AVX2 where the CPU
// has it), split across cores. The gradient is checked before anything is
// written. Both paths compute the same update (TestAdamWStep runs each
// against a float64 reference).

// hostChunk is the number of elements one goroutine updates at a time.
const hostChunk = 1 << 15

// forChunks calls fn(c, lo, hi) for the hostChunk-sized chunks c = [lo,hi)
// of [0,n), on every core, each goroutine taking the next chunk. (Handing
// out 16 chunks at a time, as parallel.Map does for records, left most
// tensors of a small model on one core.)
func forChunks(n int, fn func(c, lo, hi int)) {
	count := (n + hostChunk - 1) / hostChunk
	workers := min(runtime.GOMAXPROCS(0), count)
	chunk := func(c int) { fn(c, c*hostChunk, min((c+1)*hostChunk, n)) }
	if workers <= 1 {
		for c := range count {
			chunk(c)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		for c := int(next.Add(1)) - 1; c < count; c = int(next.Add(1)) - 1 {
			chunk(c)
		}
	}
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// sumSquares is Σx² in float64, summed per chunk and then in chunk order so
// the result does not depend on scheduling.
func sumSquares(x []float32) float64 {
	partial := make([]float64, (len(x)+hostChunk-1)/hostChunk)
	forChunks(len(x), func(c, lo, hi int) { partial[c] = vecmath.SumSquares(x[lo:hi]) })
	var s float64
	for _, p := range partial {
		s += p
	}
	return s
}

// adamUpdate holds one parameter's step constants.
type adamUpdate struct {
	gradScale float64 // 1/nAccum · clip
	decay     float64 // 1 − lr·wd, or 1
	b1, b2    float64
	stepSize  float64 // lr / (1 − β1^t)
	invBC2    float64 // 1 / √(1 − β2^t)
	eps       float64
}

// kernel is the update in float32 like the graph path (float64 would halve
// the speed for nothing the float32 state could keep).
func (u *adamUpdate) kernel() vecmath.AdamW {
	return vecmath.AdamW{
		GradScale: float32(u.gradScale), Decay: float32(u.decay),
		B1: float32(u.b1), B2: float32(u.b2),
		Step: float32(u.stepSize), InvBC2: float32(u.invBC2), Eps: float32(u.eps),
	}
}

// apply updates p, m and v in place from gradient g (all the same length),
// split across cores.
func (u *adamUpdate) apply(p, m, v, g []float32) {
	k := u.kernel()
	forChunks(len(p), func(_, lo, hi int) { k.Update(p[lo:hi], m[lo:hi], v[lo:hi], g[lo:hi]) })
}

// addOnHost returns new tensors a[i] + b[i].
func addOnHost(a, b []*tensors.Tensor) ([]*tensors.Tensor, error) {
	out := make([]*tensors.Tensor, len(a))
	for i := range a {
		sum := tensors.FromShape(a[i].Shape())
		err := tensors.MutableFlatData(sum, func(s []float32) {
			tensors.MustConstFlatData(a[i], func(x []float32) {
				tensors.MustConstFlatData(b[i], func(y []float32) {
					forChunks(len(s), func(_, lo, hi int) {
						for j := lo; j < hi; j++ {
							s[j] = x[j] + y[j]
						}
					})
				})
			})
		})
		if err != nil {
			return nil, err
		}
		out[i] = sum
	}
	return out, nil
}

// applyHost is Apply's update for host-memory engines.
func (t *Trainer) applyHost(lr float64, stepNo int) (StepStats, error) {
	m := t.M
	scale := 1 / float64(t.nAccum)
	var total float64
	for i, g := range t.accum {
		var s float64
		if err := tensors.ConstFlatData(g, func(flat []float32) { s = sumSquares(flat) }); err != nil {
			return StepStats{}, err
		}
		s *= scale * scale
		if math.IsNaN(s) || math.IsInf(s, 0) {
			t.clearAccum()
			return StepStats{}, &NonFiniteError{Step: stepNo, Tensor: "gradient of " + m.Names[i], Value: s}
		}
		total += s
	}
	norm := math.Sqrt(total)
	clip := 1.0
	if t.Opt.ClipNorm > 0 {
		// DeepSpeed clipping: scale by clip/(norm+1e-6) when that is below 1.
		clip = min(t.Opt.ClipNorm/(norm+1e-6), 1)
	}
	for i, name := range m.Names {
		u := adamUpdate{
			gradScale: scale * clip,
			decay:     1,
			b1:        t.Opt.Beta1,
			b2:        t.Opt.Beta2,
			stepSize:  lr / (1 - math.Pow(t.Opt.Beta1, float64(stepNo))),
			invBC2:    1 / math.Sqrt(1-math.Pow(t.Opt.Beta2, float64(stepNo))),
			eps:       t.Opt.Eps,
		}
		if decays(name) && t.Opt.WeightDecay != 0 {
			u.decay = 1 - lr*t.Opt.WeightDecay
		}
		err := tensors.MutableFlatData(m.Params[name], func(p []float32) {
			tensors.MustMutableFlatData(t.mom[i], func(mo []float32) {
				tensors.MustMutableFlatData(t.vel[i], func(ve []float32) {
					tensors.MustConstFlatData(t.accum[i], func(g []float32) {
						u.apply(p, mo, ve, g)
					})
				})
			})
		})
		if err != nil {
			return StepStats{}, err
		}
	}
	t.clearAccum()
	t.Step = stepNo
	return StepStats{Step: stepNo, LR: lr, GradNorm: norm}, nil
}
