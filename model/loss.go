package model

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// Objective is a training loss on a batch of sequences. The model's forward
// pass is shared; an objective adds its own inputs and turns logits into a
// scalar loss (plus named metrics).
type Objective interface {
	// Key identifies the graph: graphs are compiled once per Key (and input
	// shapes) with the first objective seen, so Loss may depend only on the
	// hyperparameters the Key encodes, never on batch data.
	Key() string
	// Inputs returns the objective's extra inputs for sequences padded to T.
	Inputs(T int) ([]any, error)
	// Loss builds the scalar loss from the shifted logits [B,T-1,V] (row t-1
	// scores token t), ids [B,T] and the
	// extra inputs, with one metric node per MetricNames entry.
	Loss(logits, ids *Node, extra []*Node) (loss *Node, metrics []*Node)
	// MetricNames names the metrics Loss returns, in order.
	MetricNames() []string
	// Sequences are the token sequences the objective scores.
	Sequences() [][]int
}

// SkipsLogits is an Objective whose scored rows before LogitsFrom() are
// all masked (a prompt): the loss graph then projects only the hidden states
// from that position on, so Loss receives logits [B,T-1-from,V] and ids
// [B,T-from], and Inputs must return its [B,T-1] inputs without their first
// `from` columns. Long prompts with short completions (RL) save most of the
// LM head's time and memory.
type SkipsLogits interface {
	LogitsFrom() int
}

func logitsFrom(obj Objective) int {
	if s, ok := obj.(SkipsLogits); ok {
		return s.LogitsFrom()
	}
	return 0
}

// LossResult is a loss with its gradient.
type LossResult struct {
	Loss    float64
	Metrics map[string]float64
	// Grads holds ∂loss/∂param in Model.Names order (float32, param shapes).
	Grads []*tensors.Tensor
}

// GradNorm is the global L2 norm of the gradient.
func (r *LossResult) GradNorm() float64 {
	var s float64
	for _, g := range r.Grads {
		for _, v := range tensors.MustCopyFlatData[float32](g) {
			s += float64(v) * float64(v)
		}
	}
	return math.Sqrt(s)
}

// Grad returns the gradient of the named parameter as a flat slice.
func (m *Model) Grad(r *LossResult, name string) ([]float32, error) {
	for i, n := range m.Names {
		if n == name {
			return tensors.CopyFlatData[float32](r.Grads[i])
		}
	}
	return nil, fmt.Errorf("no parameter %q", name)
}

// LossAndGrad evaluates obj and its gradient with respect to every parameter.
func (m *Model) LossAndGrad(obj Objective) (*LossResult, error) {
	return m.lossGraph(obj, true)
}

// LossOnly evaluates obj without the backward pass.
func (m *Model) LossOnly(obj Objective) (*LossResult, error) {
	return m.lossGraph(obj, false)
}

func (m *Model) lossGraph(obj Objective, withGrad bool) (*LossResult, error) {
	seqs := obj.Sequences()
	maxLen := 0
	for _, s := range seqs {
		maxLen = max(maxLen, len(s))
	}
	if len(seqs) == 0 || maxLen < 2 {
		return nil, fmt.Errorf("loss: empty batch")
	}
	T := maxLen
	if T > 64 {
		// Pad to a bucket only for long sequences: short fixtures keep their
		// exact shape, long training batches reuse compilations.
		T = bucket(maxLen)
	}
	b, err := rightPadded(seqs, T, m.Config.VocabSize)
	if err != nil {
		return nil, err
	}
	if from := logitsFrom(obj); from < 0 || from >= T-1 {
		return nil, fmt.Errorf("loss: logits from row %d of %d", from, T-1)
	}
	extra, err := obj.Inputs(T)
	if err != nil {
		return nil, err
	}
	cos, sin := m.ropeInputs(b.pos)
	metricNames := obj.MetricNames()
	key := fmt.Sprintf("loss:%s:grad=%v", obj.Key(), withGrad)
	fn := func(g *Graph, in []*Node) []*Node {
		P := len(m.Names)
		params := in[:P]
		net := bind(m.Config, m.Names, params)
		ids := in[P]
		h, _ := net.forward(ids, in[P+1], in[P+2], in[P+3], nil, nil)
		if from := logitsFrom(obj); from > 0 {
			// Rows before from are masked: no logits for them. (To the end of
			// the axis, not to T: a compiled graph is reused for other shapes
			// and this closure would still hold the first call's T.)
			h, ids = SliceAxis(h, 1, AxisRange(from)), SliceAxis(ids, 1, AxisRange(from))
		}
		loss, metrics := obj.Loss(net.shiftedLogits(h), ids, in[P+4:])
		outs := append([]*Node{loss}, metrics...)
		if withGrad {
			outs = append(outs, Gradient(loss, params...)...)
		}
		return outs
	}
	args := append([]any{tensors.FromFlatDataAndDimensions(b.ids, b.B, b.T), cos, sin,
		tensors.FromFlatDataAndDimensions(b.mask, b.B, b.T, b.T)}, extra...)
	out, err := m.run(key, fn, args...)
	if err != nil {
		return nil, err
	}
	res := &LossResult{Loss: float64(tensors.ToScalar[float32](out[0])), Metrics: map[string]float64{}}
	for i, k := range metricNames {
		res.Metrics[k] = float64(tensors.ToScalar[float32](out[1+i]))
	}
	if withGrad {
		res.Grads = out[1+len(metricNames):]
	}
	return res, nil
}
