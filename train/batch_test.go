package train

import "testing"

// padded must follow the engine's buckets (model.bucket) above 64, or a
// micro-batch's budget is computed for a length the engine does not use.
func TestPadded(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{1, 1}, {64, 64}, {65, 128}, {200, 256}, {257, 384}, {450, 512}, {513, 640}, {1024, 1024}, {1025, 1536},
	} {
		if got := padded(c.n); got != c.want {
			t.Errorf("padded(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

func TestMicroBatchesBudget(t *testing.T) {
	seq := func(n int) *Example { return &Example{Seq: make([]int, n)} }
	// Four ~500-token sequences pad to 512 and 640: one micro-batch of 4 × 640 within 4096.
	got := MicroBatches([]*Example{seq(450), seq(530), seq(480), seq(400)}, 4096)
	if len(got) != 1 || len(got[0]) != 4 || len(got[0][0].Seq) != 530 {
		t.Fatalf("micro-batches %v, want one of 4 led by the longest", lens(got))
	}
	got = MicroBatches([]*Example{seq(450), seq(530), seq(480), seq(400)}, 2048)
	if len(got) != 2 {
		t.Fatalf("budget 2048: micro-batches %v, want 2", lens(got))
	}
}

func lens(mbs [][]*Example) [][]int {
	var out [][]int
	for _, mb := range mbs {
		var l []int
		for _, e := range mb {
			l = append(l, len(e.Seq))
		}
		out = append(out, l)
	}
	return out
}
