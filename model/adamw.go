package model

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// AdamW holds the optimizer settings as OpenRLHF configures DeepSpeed's
// AdamW: betas (0.9, 0.95), eps 1e-8, decoupled weight decay on every tensor
// whose name contains neither "norm.weight" nor "bias", and global-norm
// gradient clipping at 1.0.
type AdamW struct {
	Beta1, Beta2 float64
	Eps          float64
	WeightDecay  float64
	ClipNorm     float64 // 0 disables clipping
}

// DefaultAdamW is OpenRLHF's configuration with the given weight decay.
func DefaultAdamW(weightDecay float64) AdamW {
	return AdamW{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: weightDecay, ClipNorm: 1.0}
}

// decays reports whether weight decay applies to a parameter.
func decays(name string) bool {
	return !strings.Contains(name, "norm.weight") && !strings.Contains(name, "bias")
}

// Trainer applies AdamW steps to a model, accumulating gradients over
// micro-batches. Each micro-batch loss is its own masked mean; a step uses
// the mean of the accumulated gradients (as DeepSpeed's accumulation does).
type Trainer struct {
	M     *Model
	Opt   AdamW
	Sched Schedule
	// Step counts applied optimizer steps.
	Step int

	mom, vel []*tensors.Tensor
	// graphUpdate forces the AdamW graph even where tensors live in host
	// memory (tests compare the two paths).
	graphUpdate bool
	accum       []*tensors.Tensor
	nAccum      int
}

// NewTrainer starts AdamW with zero moments.
func NewTrainer(m *Model, opt AdamW, sched Schedule) *Trainer {
	t := &Trainer{M: m, Opt: opt, Sched: sched}
	for _, n := range m.Names {
		t.mom = append(t.mom, tensors.FromShape(m.Params[n].Shape()))
		t.vel = append(t.vel, tensors.FromShape(m.Params[n].Shape()))
	}
	return t
}

// NonFiniteError reports a NaN or Inf loss or gradient; the step was not applied.
type NonFiniteError struct {
	Step   int
	Tensor string // "loss" or the parameter whose gradient is not finite
	Value  float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("step %d: non-finite %s (%v): update not applied", e.Step, e.Tensor, e.Value)
}

// Accumulate runs forward and backward on one micro-batch and adds its
// gradient. A non-finite loss is reported and not accumulated. The returned
// Grads are valid until the next Apply, which releases them.
func (t *Trainer) Accumulate(obj Objective) (*LossResult, error) {
	r, err := t.M.LossAndGrad(obj)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
		return r, &NonFiniteError{Step: t.Step, Tensor: "loss", Value: r.Loss}
	}
	if t.nAccum == 0 {
		t.accum = r.Grads
	} else {
		args := make([]any, 0, 2*len(t.accum))
		for _, a := range t.accum {
			args = append(args, a)
		}
		for _, g := range r.Grads {
			args = append(args, g)
		}
		e, err := t.M.Engine()
		if err != nil {
			return nil, err
		}
		if t.onHost(e) {
			if t.accum, err = addOnHost(t.accum, r.Grads); err != nil {
				return nil, err
			}
			t.nAccum++
			return r, nil
		}
		ex, err := t.M.graphs.get(e, "accumulate", func(g *Graph, in []*Node) []*Node {
			n := len(in) / 2
			out := make([]*Node, n)
			for i := range n {
				out[i] = Add(in[i], in[n+i])
			}
			return out
		})
		if err != nil {
			return nil, err
		}
		out, err := ex.Exec(args...)
		if err != nil {
			return nil, err
		}
		t.accum = out
	}
	t.nAccum++
	return r, nil
}

// StepStats describes an applied step.
type StepStats struct {
	Step     int
	LR       float64
	GradNorm float64 // before clipping
}

// Apply performs one AdamW step with the accumulated gradient and clears it.
// A non-finite gradient is reported with the offending tensor's name and the
// parameters stay as they were.
func (t *Trainer) Apply() (StepStats, error) {
	if t.nAccum == 0 {
		return StepStats{}, fmt.Errorf("apply: no accumulated gradient")
	}
	m := t.M
	P := len(m.Names)
	lr := t.Sched.At(t.Step)
	stepNo := t.Step + 1
	hyper := []float32{
		float32(lr),
		float32(1 / float64(t.nAccum)),
		float32(1 - math.Pow(t.Opt.Beta1, float64(stepNo))),
		float32(1 - math.Pow(t.Opt.Beta2, float64(stepNo))),
	}
	e, err := m.Engine()
	if err != nil {
		return StepStats{}, err
	}
	if t.onHost(e) {
		st, err := t.applyHost(lr, stepNo)
		m.paramsChanged()
		return st, err
	}
	args := make([]any, 0, 4*P+1)
	for _, n := range m.Names {
		args = append(args, m.Params[n])
	}
	for _, list := range [][]*tensors.Tensor{t.mom, t.vel, t.accum} {
		for _, x := range list {
			args = append(args, x)
		}
	}
	args = append(args, tensors.FromFlatDataAndDimensions(hyper, 4))
	ex, err := m.graphs.get(e, fmt.Sprintf("adamw:%+v", t.Opt), t.updateGraph)
	if err != nil {
		return StepStats{}, err
	}
	out, err := ex.Exec(args...)
	if err != nil {
		return StepStats{}, err
	}
	sq := tensors.MustCopyFlatData[float32](out[3*P])
	var total float64
	for i, s := range sq {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
			t.clearAccum()
			return StepStats{}, &NonFiniteError{Step: stepNo, Tensor: "gradient of " + m.Names[i], Value: float64(s)}
		}
		total += float64(s)
	}
	for i, n := range m.Names {
		m.Params[n] = out[i]
	}
	t.mom, t.vel = out[P:2*P], out[2*P:3*P]
	t.clearAccum()
	t.Step = stepNo
	return StepStats{Step: stepNo, LR: lr, GradNorm: math.Sqrt(total)}, nil
}

// clearAccum releases the accumulated gradient: on the Go backend its
// buffers go straight back to the backend's pool instead of waiting for the
// garbage collector (a step's gradients are as large as the model).
func (t *Trainer) clearAccum() {
	for _, g := range t.accum {
		_ = g.FinalizeAll()
	}
	t.accum, t.nAccum = nil, 0
}

// onHost reports whether the update runs as fused loops on the host
// (adamw_host.go) rather than as a graph.
func (t *Trainer) onHost(e *Engine) bool { return !t.graphUpdate && e.HostMemory() }

// updateGraph: params, m, v, grads (P each), hyper [lr, 1/nAccum, 1−β1^t,
// 1−β2^t] → new params, m, v, and each gradient's squared norm [P].
func (t *Trainer) updateGraph(g *Graph, in []*Node) []*Node {
	P := len(t.M.Names)
	hyper := in[4*P]
	lr := Reshape(SliceAxis(hyper, 0, AxisElem(0)))
	scale := Reshape(SliceAxis(hyper, 0, AxisElem(1)))
	bc1 := Reshape(SliceAxis(hyper, 0, AxisElem(2)))
	bc2 := Reshape(SliceAxis(hyper, 0, AxisElem(3)))
	grads := make([]*Node, P)
	sqs := make([]*Node, P)
	total := ScalarZero(g, dtypes.Float32)
	for i := range P {
		grads[i] = Mul(in[3*P+i], BroadcastToDims(scale, in[3*P+i].Shape().Dimensions...))
		sqs[i] = ReduceAllSum(Square(grads[i]))
		total = Add(total, sqs[i])
	}
	// DeepSpeed clipping: scale by clip/(norm+1e-6) when that is below 1.
	clip := ScalarOne(g, dtypes.Float32)
	if t.Opt.ClipNorm > 0 {
		clip = MinScalar(Div(Scalar(g, dtypes.Float32, t.Opt.ClipNorm), AddScalar(Sqrt(total), 1e-6)), 1.0)
	}
	outs := make([]*Node, 3*P+1)
	for i, name := range t.M.Names {
		p, mo, ve := in[i], in[P+i], in[2*P+i]
		dims := p.Shape().Dimensions
		// Scalars are broadcast to the parameter's shape first: the Go
		// backend's same-shape elementwise kernels are much faster than its
		// general broadcasting path.
		full := func(x *Node) *Node { return BroadcastToDims(x, dims...) }
		gr := Mul(grads[i], full(clip))
		if decays(name) && t.Opt.WeightDecay != 0 {
			p = Mul(p, full(OneMinus(MulScalar(lr, t.Opt.WeightDecay))))
		}
		mo = Add(MulScalar(mo, t.Opt.Beta1), MulScalar(gr, 1-t.Opt.Beta1))
		ve = Add(MulScalar(ve, t.Opt.Beta2), MulScalar(Square(gr), 1-t.Opt.Beta2))
		// lr·m̂/(√v̂ + ε) with m̂ = m/bc1, v̂ = v/bc2.
		denom := AddScalar(Mul(Sqrt(ve), full(Rsqrt(bc2))), t.Opt.Eps)
		outs[i] = Sub(p, Div(Mul(mo, full(Div(lr, bc1))), denom))
		outs[P+i], outs[2*P+i] = mo, ve
	}
	outs[3*P] = Stack(sqs, 0)
	return outs
}
