package model

import (
	"testing"
)

// TestLogitsMatchReference runs the three reference sequences of each fixture
// as ONE padded batch (lengths 1, 7, 33), so padding, masks and positions are
// exercised, and compares every row with the float64 reference.
func TestLogitsMatchReference(t *testing.T) {
	ref := reference(t)
	for _, v := range variants {
		m := fixtureModel(t, v)
		var seqs [][]int
		for _, s := range ref[v].Sequences {
			seqs = append(seqs, s.IDs)
		}
		got, err := m.Logits(seqs)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		worst := 0.0
		for i, s := range ref[v].Sequences {
			if len(got[i]) != len(s.Logits) {
				t.Fatalf("%s seq %d: %d rows, want %d", v, i, len(got[i]), len(s.Logits))
			}
			for r := range s.Logits {
				e := rowErr(got[i][r], s.Logits[r])
				worst = max(worst, e)
				if e > 1e-4 {
					t.Errorf("%s seq %d row %d: relative max error %.3g > 1e-4", v, i, r, e)
				}
			}
		}
		t.Logf("%s: worst row error %.3g", v, worst)
	}
}
