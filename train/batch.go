package train

import (
	"math/rand/v2"
	"sort"
)

// Cursor is the position in the data order: the next global batch is
// batch Batch of epoch Epoch. Each epoch's order is a permutation drawn from
// (seed, epoch) alone, so a cursor is all a resumed run needs.
type Cursor struct {
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
}

// order draws the records' order for an epoch.
func order(n int, seed uint64, epoch int) []int {
	rng := rand.New(rand.NewPCG(seed, 0x45504f43_00000000|uint64(epoch))) // "EPOC"
	return rng.Perm(n)
}

// GlobalBatch is the examples of the optimizer step at cursor c: batch
// c.Batch of epoch c.Epoch's order, batchSize examples (the last partial
// batch of an epoch is dropped, as OpenRLHF's loader does).
func GlobalBatch(examples []*Example, batchSize int, seed uint64, c Cursor) []*Example {
	perm := order(len(examples), seed, c.Epoch)
	out := make([]*Example, 0, batchSize)
	for _, i := range perm[c.Batch*batchSize : (c.Batch+1)*batchSize] {
		out = append(out, examples[i])
	}
	return out
}

// next moves the cursor one batch on.
func (c Cursor) next(stepsPerEpoch int) Cursor {
	c.Batch++
	if c.Batch >= stepsPerEpoch {
		c.Epoch, c.Batch = c.Epoch+1, 0
	}
	return c
}

// padded is the length a batch of longest sequence n is padded to (the
// engine's shape buckets: exact up to 64, then 128, 256, multiples of 128
// up to 1024, multiples of 512).
func padded(n int) int {
	switch {
	case n <= 64:
		return n
	case n <= 128:
		return 128
	case n <= 256:
		return 256
	case n <= 1024:
		return (n + 127) / 128 * 128
	}
	return (n + 511) / 512 * 512
}

// MicroBatches splits a global batch into micro-batches of similar length
// whose padded size (sequences × padded length) stays within budget tokens;
// a sequence longer than the budget gets a micro-batch of its own. Sorting
// by length keeps padding small.
func MicroBatches(batch []*Example, budget int) [][]*Example {
	s := append([]*Example(nil), batch...)
	sort.SliceStable(s, func(i, j int) bool { return len(s[i].Seq) > len(s[j].Seq) })
	var out [][]*Example
	var cur []*Example
	for _, e := range s {
		// s is sorted longest first, so the current micro-batch's padded
		// length is set by its first sequence.
		if len(cur) > 0 && (len(cur)+1)*padded(len(cur[0].Seq)) > budget {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, e)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
