package train

import (
	"context"
	"fmt"

	"github.com/star-go/star/model"
)

// SFT is cross-entropy on the target tokens.
type SFT struct{}

func (SFT) Build(_ context.Context, _ *model.Model, mb []*Example) (model.Objective, error) {
	o := &model.CrossEntropy{}
	for _, e := range mb {
		o.Seqs = append(o.Seqs, e.Seq)
		o.Mask = append(o.Mask, e.Mask())
	}
	return o, nil
}

// TopKSource gives the teacher's top-k log-probs for a micro-batch: for
// each example, one row per scored position (len(Seq)-1); rows outside the
// targets may be empty.
type TopKSource interface {
	TopK(ctx context.Context, mb []*Example, k int) (vals [][][]float32, ids [][][]int, err error)
}

// CKD is STAR's constrained knowledge distillation (STAR-SPEC §7) against
// a teacher's top-k.
type CKD struct {
	Teacher    TopKSource
	K          int     // teacher top-k (100)
	TopM       int     // the student's top-M for the tail penalty (default K)
	TailLambda float64 // λ (10)
	KL         string  // fkl (STAR), rkl, akl
	KDRatio    float64 // 1: pure distillation
}

func (c *CKD) Build(ctx context.Context, student *model.Model, mb []*Example) (model.Objective, error) {
	vals, ids, err := c.Teacher.TopK(ctx, mb, c.K)
	if err != nil {
		return nil, err
	}
	m := c.TopM
	if m == 0 {
		m = c.K
	}
	o := &model.CKD{TeacherLogprobs: vals, TeacherIDs: ids, KLType: c.KL, TailCoef: c.TailLambda, TopM: m, KDRatio: c.KDRatio}
	for _, e := range mb {
		o.Seqs = append(o.Seqs, e.Seq)
		o.Mask = append(o.Mask, e.Mask())
	}
	if c.TailLambda != 0 {
		// The student's top-M found on the host from a forward pass: far
		// cheaper than the in-graph bisection at a real vocabulary.
		if o.Thresholds, err = student.TopMThresholds(o.Seqs, m); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// LocalTeacher runs a teacher checkpoint in-process (forward only).
type LocalTeacher struct{ M *model.Model }

func (t *LocalTeacher) TopK(_ context.Context, mb []*Example, k int) ([][][]float32, [][][]int, error) {
	if k > t.M.Config.VocabSize {
		return nil, nil, fmt.Errorf("top-k %d > teacher vocabulary %d", k, t.M.Config.VocabSize)
	}
	var vals [][][]float32
	var ids [][][]int
	// One sequence at a time: the teacher's full logits of a micro-batch
	// (tokens × vocabulary) would be gigabytes at a real vocabulary.
	for _, e := range mb {
		first := e.PromptLen - 1
		v, i, err := t.M.TopKLogprobsFrom(e.Seq, first, k)
		if err != nil {
			return nil, nil, fmt.Errorf("teacher: %w", err)
		}
		// Rows before the targets stay empty (outside the mask).
		vr, ir := make([][]float32, len(e.Seq)-1), make([][]int, len(e.Seq)-1)
		copy(vr[first:], v)
		copy(ir[first:], i)
		vals, ids = append(vals, vr), append(ids, ir)
	}
	return vals, ids, nil
}
