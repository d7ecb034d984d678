package sample

import (
	"math"
	"math/big"
	"math/bits"
)

// Rand is Python's random.Random: the MT19937 Mersenne Twister seeded as
// random.seed(int) seeds it, with Python's shuffle and sample on top. STAR
// shuffles with random.seed(42); reproducing Python's generator bit for bit
// is the only way `--seed 42` selects the same records as the original.
type Rand struct {
	mt  [624]uint32
	idx int
}

// NewRand is random.Random(seed) for a non-negative integer seed.
func NewRand(seed uint64) *Rand {
	r := &Rand{}
	r.Seed(seed)
	return r
}

func (r *Rand) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < 624; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = 624
}

// Seed is random.seed(n) for an int n ≥ 0: init_by_array over the 32-bit
// words of n, least significant first.
func (r *Rand) Seed(seed uint64) {
	key := []uint32{uint32(seed)}
	if seed>>32 != 0 {
		key = append(key, uint32(seed>>32))
	}
	r.initGenrand(19650218)
	i, j := 1, 0
	k := 624
	if len(key) > k {
		k = len(key)
	}
	for ; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = 623; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
}

// Uint32 is genrand_uint32.
func (r *Rand) Uint32() uint32 {
	if r.idx >= 624 {
		const upper, lower = 0x80000000, 0x7fffffff
		mag := [2]uint32{0, 0x9908b0df}
		var kk int
		for kk = 0; kk < 624-397; kk++ {
			y := (r.mt[kk] & upper) | (r.mt[kk+1] & lower)
			r.mt[kk] = r.mt[kk+397] ^ (y >> 1) ^ mag[y&1]
		}
		for ; kk < 623; kk++ {
			y := (r.mt[kk] & upper) | (r.mt[kk+1] & lower)
			r.mt[kk] = r.mt[kk+(397-624)] ^ (y >> 1) ^ mag[y&1]
		}
		y := (r.mt[623] & upper) | (r.mt[0] & lower)
		r.mt[623] = r.mt[396] ^ (y >> 1) ^ mag[y&1]
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// Float64 is random.random(): 53 random bits in [0, 1).
func (r *Rand) Float64() float64 {
	a := r.Uint32() >> 5
	b := r.Uint32() >> 6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// GetRandBits is random.getrandbits(k) for k ≥ 1.
func (r *Rand) GetRandBits(k int) *big.Int {
	if k <= 32 {
		return big.NewInt(int64(r.Uint32() >> (32 - k)))
	}
	words := (k-1)/32 + 1
	b := make([]byte, 0, words*4)
	ws := make([]uint32, words)
	for i := 0; i < words; i++ {
		w := r.Uint32()
		if k < 32 {
			w >>= 32 - k
		}
		ws[i] = w
		k -= 32
	}
	for i := words - 1; i >= 0; i-- {
		b = append(b, byte(ws[i]>>24), byte(ws[i]>>16), byte(ws[i]>>8), byte(ws[i]))
	}
	return new(big.Int).SetBytes(b)
}

func (r *Rand) bits(k int) uint64 {
	if k <= 32 {
		return uint64(r.Uint32() >> (32 - k))
	}
	lo := uint64(r.Uint32())
	hi := uint64(r.Uint32() >> (64 - k))
	return hi<<32 | lo
}

// Below is random._randbelow(n) (getrandbits rejection sampling), n > 0.
func (r *Rand) Below(n int) int {
	k := bits.Len64(uint64(n))
	v := r.bits(k)
	for v >= uint64(n) {
		v = r.bits(k)
	}
	return int(v)
}

// Shuffle is random.shuffle: swap(i, j) is called as Python swaps x[i], x[j].
func (r *Rand) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, r.Below(i+1))
	}
}

// Sample is random.sample(range(n), k): the indices chosen, in order.
func (r *Rand) Sample(n, k int) []int {
	if k < 0 || k > n {
		panic("sample: k out of range")
	}
	out := make([]int, k)
	setsize := 21
	if k > 5 {
		setsize += int(math.Pow(4, math.Ceil(math.Log(float64(k*3))/math.Log(4))))
	}
	if n <= setsize {
		pool := make([]int, n)
		for i := range pool {
			pool[i] = i
		}
		for i := 0; i < k; i++ {
			j := r.Below(n - i)
			out[i] = pool[j]
			pool[j] = pool[n-i-1]
		}
		return out
	}
	selected := make(map[int]bool, k)
	for i := 0; i < k; i++ {
		j := r.Below(n)
		for selected[j] {
			j = r.Below(n)
		}
		selected[j] = true
		out[i] = j
	}
	return out
}
