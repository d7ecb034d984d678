package model

import (
	"math"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/star-go/star/internal/parallel"
)

// The AdamW step on engines whose tensors live in host memory (the Go
// backend). updateGraph spells the update as about 18 elementwise ops per
// parameter, each a full pass that reads and writes memory; here it is one
// fused pass per element, split across cores. The gradient is checked before
// anything is written. Both paths compute the same update (TestAdamWStep
// runs each against a float64 reference).

// hostChunk is the number of elements one goroutine updates at a time.
const hostChunk = 1 << 15

// chunks lists the [lo,hi) chunks of [0,n), for parallel.Map.
func chunks(n int) [][2]int {
	c := make([][2]int, 0, (n+hostChunk-1)/hostChunk)
	for lo := 0; lo < n; lo += hostChunk {
		c = append(c, [2]int{lo, min(lo+hostChunk, n)})
	}
	return c
}

// sumSquares is Σx² in float64, summed per chunk and then in chunk order so
// the result does not depend on scheduling.
func sumSquares(x []float32) float64 {
	partial := parallel.Map(0, chunks(len(x)), func(_ int, c [2]int) float64 {
		var s float64
		for _, v := range x[c[0]:c[1]] {
			s += float64(v) * float64(v)
		}
		return s
	})
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

// apply updates p, m and v in place from gradient g (all the same length),
// in float32 like the graph path (float64 would halve the speed for nothing
// the float32 state could keep).
func (u *adamUpdate) apply(p, m, v, g []float32) {
	m, v, g = m[:len(p)], v[:len(p)], g[:len(p)]
	gs, decay := float32(u.gradScale), float32(u.decay)
	b1, b2 := float32(u.b1), float32(u.b2)
	step, invBC2, eps := float32(u.stepSize), float32(u.invBC2), float32(u.eps)
	for j := range p {
		gr := g[j] * gs
		mo := b1*m[j] + (1-b1)*gr
		ve := b2*v[j] + (1-b2)*gr*gr
		m[j], v[j] = mo, ve
		p[j] = p[j]*decay - step*mo/(float32(math.Sqrt(float64(ve)))*invBC2+eps)
	}
}

// addOnHost returns new tensors a[i] + b[i].
func addOnHost(a, b []*tensors.Tensor) ([]*tensors.Tensor, error) {
	out := make([]*tensors.Tensor, len(a))
	for i := range a {
		sum := tensors.FromShape(a[i].Shape())
		err := tensors.MutableFlatData(sum, func(s []float32) {
			tensors.MustConstFlatData(a[i], func(x []float32) {
				tensors.MustConstFlatData(b[i], func(y []float32) {
					parallel.Map(0, chunks(len(s)), func(_ int, c [2]int) struct{} {
						for j := c[0]; j < c[1]; j++ {
							s[j] = x[j] + y[j]
						}
						return struct{}{}
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
						parallel.Map(0, chunks(len(p)), func(_ int, c [2]int) struct{} {
							u.apply(p[c[0]:c[1]], mo[c[0]:c[1]], ve[c[0]:c[1]], g[c[0]:c[1]])
							return struct{}{}
						})
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
