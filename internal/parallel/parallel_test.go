package parallel

import "testing"

func TestMapKeepsOrder(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 100} {
		in := make([]int, 1000)
		for i := range in {
			in[i] = i
		}
		out := Map(workers, in, func(i, x int) int { return x*x + i })
		for i, y := range out {
			if y != i*i+i {
				t.Fatalf("workers=%d: out[%d] = %d", workers, i, y)
			}
		}
	}
	if got := Map(4, []int(nil), func(int, int) int { return 1 }); len(got) != 0 {
		t.Errorf("empty input gave %v", got)
	}
}
