package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

func TestSchedule(t *testing.T) {
	s := CosineSchedule(1e-3, 100) // warm-up ceil(3) = 3 steps
	if s.WarmupSteps != 3 {
		t.Fatalf("warmup %d", s.WarmupSteps)
	}
	cases := []struct {
		step int
		want float64
	}{{0, 0}, {1, 1e-3 / 3}, {3, 1e-3}, {100, 1e-4}, {3 + 97/2, 1e-4 + 0.9e-3*0.5*(1+math.Cos(math.Pi*48.0/97))}}
	for _, c := range cases {
		if got := s.At(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("At(%d) = %g, want %g", c.step, got, c.want)
		}
	}
}

// copyModel loads a private copy of a fixture (training mutates parameters).
func copyModel(t *testing.T, variant string) *Model {
	m, err := Load(filepath.Join(fixtureDir, variant))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAdamWStep checks one step against a float64 host computation:
// accumulation of two micro-batches (mean gradient), global-norm clipping,
// bias correction, and weight decay skipped for norm weights.
func TestAdamWStep(t *testing.T) {
	for _, graph := range []bool{false, true} {
		t.Run(fmt.Sprintf("graph=%v", graph), func(t *testing.T) { testAdamWStep(t, graph) })
	}
}

func testAdamWStep(t *testing.T, graph bool) {
	m := copyModel(t, "tied-f32")
	b1 := &CrossEntropy{Seqs: [][]int{{5, 17, 42, 7, 9, 300}}}
	b2 := &CrossEntropy{Seqs: [][]int{{8, 1, 2, 3}, {99, 98, 97, 96, 95}}}
	r1, err := m.LossAndGrad(b1)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := m.LossAndGrad(b2)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"model.norm.weight", "model.layers.0.mlp.up_proj.weight"}
	before := map[string][]float32{}
	grads := map[string][]float64{}
	var sq float64
	for i, n := range m.Names {
		g1, _ := m.Grad(r1, n)
		g2, _ := m.Grad(r2, n)
		g := make([]float64, len(g1))
		for j := range g {
			g[j] = (float64(g1[j]) + float64(g2[j])) / 2
			sq += g[j] * g[j]
		}
		grads[n] = g
		before[n], _ = m.Float32(m.Names[i])
	}
	norm := math.Sqrt(sq)
	opt := DefaultAdamW(0.1)
	opt.ClipNorm = norm / 2 // force clipping
	tr := NewTrainer(m, opt, Schedule{LR: 1e-2})
	tr.graphUpdate = graph
	if e, _ := m.Engine(); !graph && !tr.onHost(e) {
		t.Fatal("the Go backend should take the host update path")
	}
	if _, err := tr.Accumulate(b1); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Accumulate(b2); err != nil {
		t.Fatal(err)
	}
	st, err := tr.Apply()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(st.GradNorm-norm) > 1e-4*norm {
		t.Errorf("grad norm %g, want %g", st.GradNorm, norm)
	}
	clip := opt.ClipNorm / (norm + 1e-6)
	for _, n := range names {
		after, _ := m.Float32(n)
		wd := 0.1
		if n == "model.norm.weight" {
			wd = 0
		}
		for j := range 5 {
			p := float64(before[n][j])
			g := grads[n][j] * clip
			mo, ve := 0.1*g/(1-0.9), 0.05*g*g/(1-0.95)
			want := p*(1-1e-2*wd) - 1e-2*mo/(math.Sqrt(ve)+1e-8)
			if math.Abs(float64(after[j])-want) > 1e-6 {
				t.Errorf("%s[%d]: %v, want %v", n, j, after[j], want)
			}
		}
	}
	// A few more steps on one batch must lower its loss.
	first := r1.Loss
	for range 5 {
		if _, err := tr.Accumulate(b1); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Apply(); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := m.LossOnly(b1)
	if r.Loss >= first-0.1 {
		t.Errorf("loss did not decrease: %g → %g", first, r.Loss)
	}
}

// TestNonFiniteNotApplied: a NaN in the loss inputs is reported and the
// parameters are untouched.
func TestNonFiniteNotApplied(t *testing.T) {
	for _, graph := range []bool{false, true} {
		t.Run(fmt.Sprintf("graph=%v", graph), func(t *testing.T) { testNonFiniteNotApplied(t, graph) })
	}
}

func testNonFiniteNotApplied(t *testing.T, graph bool) {
	m := copyModel(t, "tied-f32")
	seq := []int{5, 6, 7, 8}
	nan := float32(math.NaN())
	obj := &GRPO{Seqs: [][]int{seq}, Mask: [][]float32{{0, 1, 1}}, OldLogprobs: [][]float32{{0, nan, -1}},
		RefLogprobs: [][]float32{{0, -1, -1}}, Advantages: []float64{1}, ClipEps: 0.2, KLCoef: 1e-3}
	before, _ := m.Float32("model.norm.weight")
	tr := NewTrainer(m, DefaultAdamW(0), Schedule{LR: 1e-2})
	tr.graphUpdate = graph
	_, err := tr.Accumulate(obj)
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Tensor != "loss" {
		t.Fatalf("want a non-finite loss error, got %v", err)
	}
	if _, err := tr.Apply(); err == nil {
		t.Fatal("apply with nothing accumulated must fail")
	}
	after, _ := m.Float32("model.norm.weight")
	if after[0] != before[0] {
		t.Errorf("parameters changed")
	}
	// A non-finite gradient with a finite loss: an Inf logit scale cannot be
	// made from inputs, so poison the accumulated gradient directly.
	ce := &CrossEntropy{Seqs: [][]int{seq}}
	if _, err := tr.Accumulate(ce); err != nil {
		t.Fatal(err)
	}
	i := len(m.Names) - 1
	g := tr.accum[i]
	vals, _ := m.Grad(&LossResult{Grads: tr.accum}, m.Names[i])
	vals[0] = float32(math.Inf(1))
	tr.accum[i] = tensorFrom(vals, g.Shape().Dimensions)
	_, err = tr.Apply()
	if !errors.As(err, &nf) || nf.Tensor != "gradient of "+m.Names[i] || nf.Step != 1 {
		t.Fatalf("want a non-finite gradient error naming %s, got %v", m.Names[i], err)
	}
	after, _ = m.Float32("model.norm.weight")
	if after[0] != before[0] || tr.Step != 0 {
		t.Errorf("parameters changed after a rejected step")
	}
}

// TestGenerateAfterTraining: the KV-cache path's decode-layout weights follow
// parameter updates (cached and uncached generation still agree).
func TestGenerateAfterTraining(t *testing.T) {
	m := copyModel(t, "untied-bf16")
	ctx := context.Background()
	opt := GenerateOptions{MaxNewTokens: 6, EOS: []int{}}
	before, _ := m.Generate(ctx, [][]int{{444}}, opt)
	tr := NewTrainer(m, DefaultAdamW(0), Schedule{LR: 0.05})
	seq := append([]int{444}, 7, 7, 7, 7, 7, 7)
	for range 5 {
		if _, err := tr.Accumulate(&CrossEntropy{Seqs: [][]int{seq}}); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Apply(); err != nil {
			t.Fatal(err)
		}
	}
	cached, _ := m.Generate(ctx, [][]int{{444}}, opt)
	opt.NoCache = true
	plain, _ := m.Generate(ctx, [][]int{{444}}, opt)
	if !slices.Equal(cached[0].Tokens, plain[0].Tokens) {
		t.Errorf("after training: cached %v, uncached %v", cached[0].Tokens, plain[0].Tokens)
	}
	if slices.Equal(cached[0].Tokens, before[0].Tokens) {
		t.Errorf("training on 7s did not change the continuation %v", before[0].Tokens)
	}
}
