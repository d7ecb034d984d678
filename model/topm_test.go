package model

import (
	"slices"
	"testing"
)

// TestCKDWithThresholds: the tail penalty with host-computed top-M
// thresholds gives the reference losses and gradients of losses.json, as
// the in-graph bisection does.
func TestCKDWithThresholds(t *testing.T) {
	f := loadLosses(t)
	student, teacher := fixtureModel(t, "tied-f32"), fixtureModel(t, "untied-bf16")
	seqs := f.CKD.Sequences
	var mask [][]float32
	for b, s := range seqs {
		row := make([]float32, len(s)-1)
		for t := f.CKD.PromptLen[b]; t < len(s); t++ {
			row[t-1] = 1
		}
		mask = append(mask, row)
	}
	n := 0
	for _, c := range f.CKD.Cases {
		if c.L1Coef == 0 {
			continue
		}
		n++
		vals, ids, err := teacher.TopKLogprobs(seqs, c.K)
		if err != nil {
			t.Fatal(err)
		}
		thr, err := student.TopMThresholds(seqs, c.M)
		if err != nil {
			t.Fatal(err)
		}
		obj := &CKD{Seqs: seqs, Mask: mask, TeacherLogprobs: vals, TeacherIDs: ids, KLType: c.KLType,
			TailCoef: c.L1Coef, TopM: c.M, KDRatio: c.KDRatio, Thresholds: thr}
		r, err := student.LossAndGrad(obj)
		if err != nil {
			t.Fatal(err)
		}
		if !relClose(r.Loss, c.Loss, 1e-4) {
			t.Errorf("%s: loss %.8g, want %.8g (metrics %v)", obj.Key(), r.Loss, c.Loss, r.Metrics)
		}
		checkGrads(t, student, r, c, obj.Key())
	}
	if n == 0 {
		t.Fatal("no case with a tail penalty")
	}
	if got := topMThreshold32([]float32{1, 5, 3, 9, 7}, 2); got != 6 {
		t.Errorf("threshold of the top 2 of {1,5,3,9,7} = %v, want 6", got)
	}
}

// TestTopKLogprobsFrom: the rows from first on are TopKLogprobs' rows.
func TestTopKLogprobsFrom(t *testing.T) {
	m := fixtureModel(t, "untied-bf16")
	seq := []int{5, 17, 42, 7, 9, 300, 4, 11}
	all, allIDs, err := m.TopKLogprobs([][]int{seq}, 7)
	if err != nil {
		t.Fatal(err)
	}
	vals, ids, err := m.TopKLogprobsFrom(seq, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != len(seq)-1-3 {
		t.Fatalf("%d rows", len(vals))
	}
	for r := range vals {
		if !slices.Equal(vals[r], all[0][3+r]) || !slices.Equal(ids[r], allIDs[0][3+r]) {
			t.Errorf("row %d differs", 3+r)
		}
	}
	if _, _, err := m.TopKLogprobsFrom(seq, 8, 7); err == nil {
		t.Error("first row past the end accepted")
	}
}
