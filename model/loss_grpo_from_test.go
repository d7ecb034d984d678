package model

import (
	"math"
	"slices"
	"testing"
)

// TestGRPOFrom: skipping the logits of masked prompt rows gives the same
// loss, metrics, gradient and token log-probs (fixture batch: prompts of 8).
func TestGRPOFrom(t *testing.T) {
	f := loadLosses(t)
	m := fixtureModel(t, "tied-f32")
	g := f.GRPO
	c := g.Cases[0]
	adv, err := Advantages(g.Rewards, g.N, c.Estimator)
	if err != nil {
		t.Fatal(err)
	}
	full := &GRPO{Seqs: g.Sequences, Mask: g.ActionMask, OldLogprobs: g.OldLogp, RefLogprobs: g.RefLogp,
		Advantages: adv, ClipEps: c.EpsClip, KLCoef: c.KLCoef}
	want, err := m.LossAndGrad(full)
	if err != nil {
		t.Fatal(err)
	}
	wantLP, err := m.TokenLogprobs(g.Sequences)
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []int{1, 5, 7} {
		skip := *full
		skip.From = from
		got, err := m.LossAndGrad(&skip)
		if err != nil {
			t.Fatal(err)
		}
		if !relClose(got.Loss, want.Loss, 1e-5) || !relClose(got.Loss, c.Loss, 1e-4) {
			t.Errorf("from %d: loss %.8g, without skipping %.8g, reference %.8g", from, got.Loss, want.Loss, c.Loss)
		}
		for k, v := range want.Metrics {
			if !relClose(got.Metrics[k], v, 1e-5) {
				t.Errorf("from %d: %s %.8g, want %.8g", from, k, got.Metrics[k], v)
			}
		}
		if !relClose(got.GradNorm(), want.GradNorm(), 1e-5) {
			t.Errorf("from %d: grad norm %.8g, want %.8g", from, got.GradNorm(), want.GradNorm())
		}
		a, _ := m.Grad(got, "model.layers.0.self_attn.q_proj.weight")
		b, _ := m.Grad(want, "model.layers.0.self_attn.q_proj.weight")
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-5*(1+math.Abs(float64(b[i]))) {
				t.Fatalf("from %d: q_proj grad [%d] %v, want %v", from, i, a[i], b[i])
			}
		}
		lp, err := m.TokenLogprobsFrom(g.Sequences, from)
		if err != nil {
			t.Fatal(err)
		}
		for i := range lp {
			if !slices.Equal(lp[i][:from], make([]float32, from)) {
				t.Errorf("from %d: row %d starts %v, want zeros", from, i, lp[i][:from])
			}
			for j := from; j < len(lp[i]); j++ {
				if math.Abs(float64(lp[i][j]-wantLP[i][j])) > 1e-5 {
					t.Fatalf("from %d: logprob [%d][%d] %v, want %v", from, i, j, lp[i][j], wantLP[i][j])
				}
			}
		}
	}
	bad := *full
	bad.From = 8 // row 7 is in every completion
	if _, err := m.LossAndGrad(&bad); err == nil {
		t.Error("From over a masked-in row accepted")
	}
}

// TestGRPOFromShapes: one From, two padded lengths. The compiled loss graph
// is reused for the second shape, so the slice that skips prompt rows must
// not hold the first call's length (it did, and the second call failed).
func TestGRPOFromShapes(t *testing.T) {
	m := fixtureModel(t, "tied-f32")
	for _, n := range []int{70, 140} { // padded to different buckets
		seq := make([]int, n)
		for i := range seq {
			seq[i] = (i*7 + 3) % m.Config.VocabSize
		}
		mask := make([]float32, n-1)
		for i := n - 10; i < n-1; i++ {
			mask[i] = 1
		}
		lp := make([]float32, n-1)
		obj := &GRPO{Seqs: [][]int{seq, seq}, Mask: [][]float32{mask, mask}, OldLogprobs: [][]float32{lp, lp},
			RefLogprobs: [][]float32{lp, lp}, Advantages: []float64{1, -1}, ClipEps: 0.2, KLCoef: 1e-3, From: 40}
		if _, err := m.LossAndGrad(obj); err != nil {
			t.Fatalf("%d tokens: %v", n, err)
		}
	}
}
