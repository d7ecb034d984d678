package model

import "testing"

func TestBucket(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{1, 16}, {16, 16}, {17, 32}, {64, 64}, {65, 128}, {200, 256}, {256, 256},
		{257, 384}, {450, 512}, {513, 640}, {1000, 1024}, {1024, 1024}, {1025, 1536}, {2049, 2560},
	} {
		if got := bucket(c.n); got != c.want {
			t.Errorf("bucket(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
