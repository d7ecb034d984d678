package model

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend/vecmath"
	"github.com/gomlx/compute/shapes"
)

func shapeF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }

// sampler picks next tokens on the host from one row of logits. Sampling is
// cheap next to the forward pass and doing it in Go keeps it exact and
// reproducible: each row has its own PCG stream seeded by (Seed, row).
type sampler struct {
	opt GenerateOptions
	rng *rand.Rand
	exp []float32 // greedy's scratch (logSumExp)
}

func newSampler(opt GenerateOptions, row uint64) *sampler {
	return &sampler{opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, row))}
}

// logSoftmax in float64 for stable log-probs.
func logSoftmax(logits []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	lse := mx + math.Log(sum)
	out := make([]float64, len(logits))
	for i, v := range logits {
		out[i] = float64(v) - lse
	}
	return out
}

// logSumExp is log Σ exp(logits) for the maximum mx, with the backend's
// vectorised float32 exp (relative error 2e-7 per term) summed in float64 by
// chunks: a decoding step spent more time in logSoftmax's float64 math.Exp
// over the vocabulary than in the model's last layer.
func (s *sampler) logSumExp(logits []float32, mx float32) float64 {
	const chunk = 512
	if s.exp == nil {
		s.exp = make([]float32, chunk)
	}
	var sum float64
	for i := 0; i < len(logits); i += chunk {
		part := logits[i:min(i+chunk, len(logits))]
		sum += float64(vecmath.ExpShiftSum(s.exp, part, mx))
	}
	return float64(mx) + math.Log(sum)
}

// topIndices returns the indices of the k largest values, largest first
// (ties: lower index first, as argmax). Small k uses a bounded min-heap
// (O(V log k)): top log-probs are asked for at every generated token.
func topIndices(vals []float64, k int) []int {
	k = min(k, len(vals))
	less := func(a, b int) bool { // a ranks below b
		return vals[a] < vals[b] || (vals[a] == vals[b] && a > b)
	}
	if k*8 >= len(vals) {
		idx := make([]int, len(vals))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return vals[idx[a]] > vals[idx[b]] })
		return idx[:k]
	}
	h := make([]int, 0, k) // min-heap by rank: h[0] is the weakest kept
	down := func(i int) {
		for {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && less(h[l], h[m]) {
				m = l
			}
			if r < len(h) && less(h[r], h[m]) {
				m = r
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := range vals {
		if len(h) < k {
			h = append(h, i)
			for j := len(h) - 1; j > 0 && less(h[j], h[(j-1)/2]); j = (j - 1) / 2 {
				h[j], h[(j-1)/2] = h[(j-1)/2], h[j]
			}
		} else if less(h[0], i) {
			h[0] = i
			down(0)
		}
	}
	sort.Slice(h, func(a, b int) bool { return less(h[b], h[a]) })
	return h
}

// sample returns the chosen token, its log-prob under the unmodified model
// distribution, and the top-k alternatives if asked for.
func (s *sampler) sample(logits []float32) (int, float32, []TokenLogprob) {
	if s.opt.Temperature <= 0 && s.opt.TopLogprobs <= 0 {
		// Greedy without alternatives needs the argmax and log Σ exp only.
		tok := 0
		for i, v := range logits {
			if v > logits[tok] {
				tok = i
			}
		}
		return tok, float32(float64(logits[tok]) - s.logSumExp(logits, logits[tok])), nil
	}
	lp := logSoftmax(logits)
	var top []TokenLogprob
	if s.opt.TopLogprobs > 0 {
		for _, i := range topIndices(lp, s.opt.TopLogprobs) {
			top = append(top, TokenLogprob{ID: i, Logprob: float32(lp[i])})
		}
	}
	tok := 0
	if s.opt.Temperature <= 0 {
		for i := range lp {
			if lp[i] > lp[tok] {
				tok = i
			}
		}
		return tok, float32(lp[tok]), top
	}
	// Candidates: all tokens, or the top-k; probabilities at temperature T.
	var cand []int
	switch {
	case s.opt.TopK > 0 && s.opt.TopK < len(lp):
		cand = topIndices(lp, s.opt.TopK)
	case s.opt.TopP > 0 && s.opt.TopP < 1:
		cand = topIndices(lp, len(lp)) // sorted, needed by top-p
	default: // plain temperature: no order needed; cand[0] must be the max
		cand = make([]int, len(lp))
		best := 0
		for i := range cand {
			cand[i] = i
			if lp[i] > lp[best] {
				best = i
			}
		}
		cand[0], cand[best] = cand[best], cand[0]
	}
	p := make([]float64, len(cand))
	var sum float64
	for j, i := range cand {
		p[j] = math.Exp((lp[i] - lp[cand[0]]) / s.opt.Temperature)
		sum += p[j]
	}
	// Nucleus: the smallest prefix (by probability) whose mass reaches top_p.
	if s.opt.TopP > 0 && s.opt.TopP < 1 {
		var acc float64
		for j := range p {
			acc += p[j] / sum
			if acc >= s.opt.TopP {
				cand, p = cand[:j+1], p[:j+1]
				break
			}
		}
		sum = 0
		for _, v := range p {
			sum += v
		}
	}
	r := s.rng.Float64() * sum
	tok = cand[len(cand)-1]
	for j, v := range p {
		r -= v
		if r < 0 {
			tok = cand[j]
			break
		}
	}
	return tok, float32(lp[tok]), top
}
