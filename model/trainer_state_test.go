package model

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestMomentsRoundTrip: saved moments load back exactly; a file for another
// shape or a trainer mid-accumulation is refused.
func TestMomentsRoundTrip(t *testing.T) {
	m, err := NewRandom(NewConfig(64, 16, 1, 2, 1, 8, 32, true), 3)
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTrainer(m, DefaultAdamW(0.1), CosineSchedule(1e-2, 5))
	seqs := [][]int{{1, 2, 3, 4}}
	if _, err := tr.Accumulate(&CrossEntropy{Seqs: seqs}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "opt.safetensors")
	if err := tr.SaveMoments(path); err == nil || !strings.Contains(err.Error(), "accumulated") {
		t.Errorf("save mid-accumulation: %v", err)
	}
	if _, err := tr.Apply(); err != nil {
		t.Fatal(err)
	}
	if err := tr.SaveMoments(path); err != nil {
		t.Fatal(err)
	}
	tr2 := NewTrainer(m, tr.Opt, tr.Sched)
	if err := tr2.LoadMoments(path); err != nil {
		t.Fatal(err)
	}
	if tr2.Step != 1 {
		t.Errorf("step %d", tr2.Step)
	}
	for i := range tr.mom {
		for _, pair := range [][2][]float32{{flat(tr.mom[i]), flat(tr2.mom[i])}, {flat(tr.vel[i]), flat(tr2.vel[i])}} {
			if !slices.Equal(pair[0], pair[1]) {
				t.Fatalf("moment %s differs", m.Names[i])
			}
		}
	}
	other, _ := NewRandom(NewConfig(64, 32, 1, 2, 1, 16, 32, true), 3)
	if err := NewTrainer(other, tr.Opt, tr.Sched).LoadMoments(path); err == nil || !strings.Contains(err.Error(), "want F32") {
		t.Errorf("moments of another shape: %v", err)
	}
}

func flat(x *tensors.Tensor) []float32 { return tensors.MustCopyFlatData[float32](x) }
