package model

import (
	"math"
	"os"
	"slices"
	"sync"

	"github.com/gomlx/compute/gobackend/packedmm"
	"github.com/gomlx/compute/gobackend/vecmath"
	"github.com/gomlx/gomlx/core/tensors"
)

// The one-token decode step on the host. On the Go backend a step of a small
// model is a few megaflops, and running it as a graph of ~40 ops per layer
// cost more in per-op scheduling, buffers and broadcasts than in arithmetic
// (a profile of `star bench generate` spent a quarter of its time in the
// matmuls). Here the step is plain loops over host memory: the projections
// multiply by weights packed once into the assembly GEMM's panel order
// (packedmm: AVX-512 or AVX2+FMA kernels, a portable loop elsewhere), the
// KV cache is preallocated and written in place, and nothing is allocated
// per token. Generate's prefill still runs as a graph and its cache is
// copied here once; the Batcher prefills on the host too (prefill: the
// prompts' tokens are the rows of one pass, unpadded).

// HostDecodeEnv turns the host decode step off (STAR_HOST_DECODE=0): every
// step then runs as a graph, as on other backends.
const HostDecodeEnv = "STAR_HOST_DECODE"

// hostLayer is one decoder block in the host step's layout.
type hostLayer struct {
	inNorm, postNorm, qNorm, kNorm []float32
	qkv                            *packedmm.Matrix // [H, (Hq+2·Hkv)·D]: q, k, v side by side
	qkvBias                        []float32        // nil without attention_bias
	o                              *packedmm.Matrix // [Hq·D, H]
	oBias                          []float32
	gateUp                         *packedmm.Matrix // [H, 2·I]: gate then up
	down                           *packedmm.Matrix // [I, H]
}

// hostWeights are the parameters packed for the host step.
type hostWeights struct {
	embed  []float32 // [V, H]
	layers []hostLayer
	norm   []float32
	head   *packedmm.Matrix // [H, V]
}

// useHostDecode reports whether one-token steps run on the host.
func (m *Model) useHostDecode() bool {
	if os.Getenv(HostDecodeEnv) == "0" || os.Getenv(HostDecodeEnv) == "false" {
		return false
	}
	e, err := m.Engine()
	return err == nil && e.HostMemory()
}

// hostWeights packs the parameters once per set of parameter tensors (see
// decodeWeights for the invalidation).
func (m *Model) hostWeights() (*hostWeights, error) {
	src := make([]*tensors.Tensor, len(m.Names))
	for i, n := range m.Names {
		src[i] = m.Params[n]
	}
	if m.host != nil && slices.Equal(src, m.hostSrc) {
		return m.host, nil
	}
	var err error
	get := func(name string) []float32 {
		t := m.Params[name]
		if t == nil || err != nil {
			return nil
		}
		var v []float32
		v, err = tensors.CopyFlatData[float32](t)
		return v
	}
	c := m.Config
	H, D, I := c.HiddenSize, c.HeadDim, c.IntermediateSize
	Hq, Hkv := c.NumAttentionHeads, c.NumKeyValueHeads
	w := &hostWeights{embed: get("model.embed_tokens.weight"), norm: get("model.norm.weight")}
	headName := "lm_head.weight"
	if c.TieWordEmbeddings {
		headName = "model.embed_tokens.weight"
	}
	// Weights are PyTorch's [out, in]: element (k=in, n=out) at n·in + k.
	if head := get(headName); head != nil {
		w.head = packedmm.Pack(head, H, c.VocabSize, 1, H)
	}
	for l := range c.NumHiddenLayers {
		pre := "model.layers." + itoa(l) + "."
		L := hostLayer{
			inNorm: get(pre + "input_layernorm.weight"), postNorm: get(pre + "post_attention_layernorm.weight"),
			qNorm: get(pre + "self_attn.q_norm.weight"), kNorm: get(pre + "self_attn.k_norm.weight"),
		}
		qkv := slices.Concat(get(pre+"self_attn.q_proj.weight"), get(pre+"self_attn.k_proj.weight"), get(pre+"self_attn.v_proj.weight"))
		nqkv := (Hq + 2*Hkv) * D
		if err == nil {
			L.qkv = packedmm.Pack(qkv, H, nqkv, 1, H)
			L.o = packedmm.Pack(get(pre+"self_attn.o_proj.weight"), Hq*D, H, 1, Hq*D)
			L.gateUp = packedmm.Pack(slices.Concat(get(pre+"mlp.gate_proj.weight"), get(pre+"mlp.up_proj.weight")), H, 2*I, 1, H)
			L.down = packedmm.Pack(get(pre+"mlp.down_proj.weight"), I, H, 1, I)
		}
		if c.AttentionBias {
			L.qkvBias = slices.Concat(get(pre+"self_attn.q_proj.bias"), get(pre+"self_attn.k_proj.bias"), get(pre+"self_attn.v_proj.bias"))
			L.oBias = get(pre + "self_attn.o_proj.bias")
		}
		w.layers = append(w.layers, L)
	}
	if err != nil {
		return nil, err
	}
	m.host, m.hostSrc = w, src
	return w, nil
}

// hostStep is the state of host decoding for one batch: the KV cache and
// the scratch space of a step, allocated once.
type hostStep struct {
	cfg  *Config
	w    *hostWeights
	B    int // rows
	capB int // rows the buffers hold (the Batcher shrinks B in place)
	S    int // cache positions per row
	// k, v: per layer [B, Hkv, S, D] (keys not transposed: a score is a
	// contiguous dot product here).
	k, v [][]float32

	// Scratch space of one call, n token rows (token row b uses cache row
	// crow[b], or b when crow is nil).
	x, h, qkv, att, proj, gu, act, logits []float32
	cos, sin                              []float32
	crow                                  []int
	scores                                [][]float32 // per attention worker [S]
	pbuf                                  [attentionWorkers]prefillBuf
	ropeCos, ropeSin                      []float32 // [positions, D], see rope
}

func newHostStep(cfg *Config, w *hostWeights, B, S int) *hostStep {
	Hkv, D := cfg.NumKeyValueHeads, cfg.HeadDim
	s := &hostStep{cfg: cfg, w: w, B: B, capB: B, S: S}
	for range cfg.NumHiddenLayers {
		s.k = append(s.k, make([]float32, B*Hkv*S*D))
		s.v = append(s.v, make([]float32, B*Hkv*S*D))
	}
	for range attentionWorkers {
		s.scores = append(s.scores, make([]float32, S))
	}
	s.scratch(B)
	return s
}

const attentionWorkers = 2

// scratch sizes the scratch space for n token rows, reusing its memory.
func (s *hostStep) scratch(n int) {
	c := s.cfg
	H, D, I := c.HiddenSize, c.HeadDim, c.IntermediateSize
	Hq, Hkv := c.NumAttentionHeads, c.NumKeyValueHeads
	for _, b := range []struct {
		buf  *[]float32
		size int
	}{{&s.x, n * H}, {&s.h, n * H}, {&s.qkv, n * (Hq + 2*Hkv) * D}, {&s.att, n * Hq * D}, {&s.proj, n * H},
		{&s.gu, n * 2 * I}, {&s.act, n * I}, {&s.cos, n * D}, {&s.sin, n * D}} {
		if cap(*b.buf) < b.size {
			*b.buf = make([]float32, b.size)
		}
		*b.buf = (*b.buf)[:b.size]
	}
}

// setRows sets the cache rows to B (≤ capB).
func (s *hostStep) setRows(B int) {
	s.B = B
	s.scratch(B)
}

// run feeds token ids[b] to every row b at RoPE position pos[b], writes its
// key and value at cache slot slot[b], attends to slots [lo[b], slot[b]] and
// returns the next-token logits [B·V] (valid until the next call).
func (s *hostStep) run(ids []int32, pos, lo, slot []int) []float32 {
	c := s.cfg
	s.scratch(s.B)
	s.crow = nil
	s.layers(ids, pos, lo, slot, nil)
	rmsNormRows(s.h, s.x, s.w.norm, c.HiddenSize, float32(c.RMSNormEps))
	s.logits = grow(s.logits, s.B*c.VocabSize)
	packedmm.Mul(s.logits, s.h, s.B, s.w.head, 0)
	return s.logits
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// row is the cache row of token row b.
func (s *hostStep) row(b int) int {
	if s.crow == nil {
		return b
	}
	return s.crow[b]
}

// prefillChunk bounds the token rows of one pass of prefill (its scratch
// space and the activations the GEMMs stream).
const prefillChunk = 256

// prefill runs prompt j into cache row rows[j] from slot 0, all prompts'
// tokens together as the rows of one forward pass (in chunks of chunk
// tokens; a token attends to the slots of its row written before it, by
// this chunk or an earlier one), and returns each prompt's next-token
// logits [len(prompts)·V] (valid until the next call). Nothing is padded:
// the matrix products see the prompts' tokens and no more.
func (s *hostStep) prefill(prompts [][]int, rows []int, chunk int) []float32 {
	c := s.cfg
	H, V := c.HiddenSize, c.VocabSize
	var ids []int32
	var crow, pos, lastRow []int
	var runs []prefillRun
	last := make([]float32, len(prompts)*H) // final hidden state of each prompt's last token
	flush := func() {
		if len(ids) == 0 {
			return
		}
		s.scratch(len(ids))
		s.crow = crow
		s.layers(ids, pos, nil, pos, runs)
		for j, b := range lastRow {
			if b >= 0 {
				copy(last[j*H:(j+1)*H], s.x[b*H:(b+1)*H])
			}
		}
		ids, crow, pos, runs = ids[:0], crow[:0], pos[:0], runs[:0]
		for j := range lastRow {
			lastRow[j] = -1
		}
	}
	lastRow = make([]int, len(prompts))
	for j := range lastRow {
		lastRow[j] = -1
	}
	for j, p := range prompts {
		for t, id := range p {
			if len(ids) == chunk {
				flush()
			}
			if t == len(p)-1 {
				lastRow[j] = len(ids)
			}
			if len(runs) == 0 || t == 0 {
				runs = append(runs, prefillRun{r: len(ids), c: rows[j], p: t})
			}
			runs[len(runs)-1].n++
			ids, crow, pos = append(ids, int32(id)), append(crow, rows[j]), append(pos, t)
		}
	}
	flush()
	s.crow = nil
	h := make([]float32, len(prompts)*H)
	rmsNormRows(h, last, s.w.norm, H, float32(c.RMSNormEps))
	s.logits = grow(s.logits, len(prompts)*V)
	packedmm.Mul(s.logits, h, len(prompts), s.w.head, 0)
	return s.logits
}

// copyRow copies the first n slots of cache row src to row dst (choices
// of one prompt share its prefill).
func (s *hostStep) copyRow(dst, src, n int) {
	D, Hkv := s.cfg.HeadDim, s.cfg.NumKeyValueHeads
	for l := range s.k {
		for h := range Hkv {
			from, to := (src*Hkv+h)*s.S*D, (dst*Hkv+h)*s.S*D
			copy(s.k[l][to:to+n*D], s.k[l][from:from+n*D])
			copy(s.v[l][to:to+n*D], s.v[l][from:from+n*D])
		}
	}
}

// layers runs the decoder blocks on len(ids) token rows (scratch sized
// for them, crow set), leaving the last hidden states in x. Attention is
// per row (slots [lo[b], slot[b]]) or, for a prefill, per run of a
// prompt's tokens.
func (s *hostStep) layers(ids []int32, pos, lo, slot []int, runs []prefillRun) {
	c, w := s.cfg, s.w
	B, H, D, I := len(ids), c.HiddenSize, c.HeadDim, c.IntermediateSize
	Hq, Hkv := c.NumAttentionHeads, c.NumKeyValueHeads
	eps := float32(c.RMSNormEps)
	nqkv := (Hq + 2*Hkv) * D

	for b, id := range ids {
		copy(s.x[b*H:(b+1)*H], w.embed[int(id)*H:(int(id)+1)*H])
	}
	s.rope(pos)
	qScale := float32(1 / math.Sqrt(float64(D)))
	for l := range w.layers {
		L := &w.layers[l]
		rmsNormRows(s.h, s.x, L.inNorm, H, eps)
		packedmm.Mul(s.qkv, s.h, B, L.qkv, 0)
		for b := range B {
			row := s.qkv[b*nqkv : (b+1)*nqkv]
			if L.qkvBias != nil {
				addTo(row, L.qkvBias)
			}
			cs, sn := s.cos[b*D:(b+1)*D], s.sin[b*D:(b+1)*D]
			for hd := range Hq {
				q := row[hd*D : (hd+1)*D]
				rmsNormRows(q, q, L.qNorm, D, eps)
				ropeRow(q, cs, sn)
				for i := range q {
					q[i] *= qScale
				}
			}
			for hd := range Hkv {
				k := row[(Hq+hd)*D : (Hq+hd+1)*D]
				rmsNormRows(k, k, L.kNorm, D, eps)
				ropeRow(k, cs, sn)
				at := ((s.row(b)*Hkv+hd)*s.S + slot[b]) * D
				copy(s.k[l][at:at+D], k)
				copy(s.v[l][at:at+D], row[(Hq+Hkv+hd)*D:(Hq+Hkv+hd+1)*D])
			}
		}
		if runs != nil {
			s.prefillAttention(l, runs)
		} else {
			s.attention(l, B, lo, slot)
		}
		packedmm.Mul(s.proj, s.att, B, L.o, 0)
		for b := range B {
			if L.oBias != nil {
				addTo(s.proj[b*H:(b+1)*H], L.oBias)
			}
		}
		addTo(s.x, s.proj)
		rmsNormRows(s.h, s.x, L.postNorm, H, eps)
		packedmm.Mul(s.gu, s.h, B, L.gateUp, 0)
		for b := range B {
			g, u, a := s.gu[b*2*I:b*2*I+I], s.gu[b*2*I+I:(b+1)*2*I], s.act[b*I:(b+1)*I]
			vecmath.Sigmoid(a, g)
			for i, gv := range g {
				a[i] = gv * a[i] * u[i]
			}
		}
		packedmm.Mul(s.proj, s.act, B, L.down, 0)
		addTo(s.x, s.proj)
	}
}

// rope fills cos and sin [B, D] for each row's position, as ropeTables,
// from a table of the positions seen so far (a prefill asks for the same
// positions for every prompt).
func (s *hostStep) rope(pos []int) {
	D := s.cfg.HeadDim
	half := D / 2
	for _, p := range pos {
		for n := len(s.ropeCos) / D; n <= p; n++ {
			for j := range D {
				a := float64(n) * (1 / math.Pow(s.cfg.RopeTheta, float64(2*(j%half))/float64(D)))
				s.ropeCos, s.ropeSin = append(s.ropeCos, float32(math.Cos(a))), append(s.ropeSin, float32(math.Sin(a)))
			}
		}
	}
	for b, p := range pos {
		copy(s.cos[b*D:(b+1)*D], s.ropeCos[p*D:(p+1)*D])
		copy(s.sin[b*D:(b+1)*D], s.ropeSin[p*D:(p+1)*D])
	}
}

// prefillRun: token rows [r, r+n) of a prefill pass are positions
// [p, p+n) of cache row c.
type prefillRun struct{ r, n, c, p int }

// prefillAttention writes att for the token rows of runs with matrix
// products instead of a dot product per (token, position): per run and kv
// head (a task; tasks split between workers), the rows of its G query
// heads [G·n, D] times the keys [0, p+n) transposed, a causal softmax
// (positions after a token's own are zero), times the values.
func (s *hostStep) prefillAttention(l int, runs []prefillRun) {
	Hkv := s.cfg.NumKeyValueHeads
	tasks := len(runs) * Hkv
	if tasks < 2 {
		for t := range tasks {
			s.prefillAttend(l, runs[t/Hkv], t%Hkv, &s.pbuf[0], 0)
		}
		return
	}
	var wg sync.WaitGroup
	for wk := 1; wk < attentionWorkers; wk++ {
		wg.Go(func() {
			for t := wk; t < tasks; t += attentionWorkers {
				s.prefillAttend(l, runs[t/Hkv], t%Hkv, &s.pbuf[wk], 1)
			}
		})
	}
	for t := 0; t < tasks; t += attentionWorkers {
		s.prefillAttend(l, runs[t/Hkv], t%Hkv, &s.pbuf[0], 1)
	}
	wg.Wait()
}

// prefillBuf is one worker's scratch space in prefillAttention.
type prefillBuf struct{ q, sc, out, inv []float32 }

// prefillAttend is one task of prefillAttention: run's tokens, kv head kvh
// (matrix products on up to workers goroutines, ≤ 0: GOMAXPROCS).
func (s *hostStep) prefillAttend(l int, run prefillRun, kvh int, buf *prefillBuf, workers int) {
	c := s.cfg
	D, Hq, Hkv := c.HeadDim, c.NumAttentionHeads, c.NumKeyValueHeads
	G := Hq / Hkv
	nqkv := (Hq + 2*Hkv) * D
	P, M := run.p+run.n, G*run.n // keys [0, P), query rows
	buf.q, buf.sc, buf.out, buf.inv = grow(buf.q, M*D), grow(buf.sc, M*P), grow(buf.out, M*D), grow(buf.inv, M)
	at := (run.c*Hkv + kvh) * s.S * D
	kt := packedmm.Pack(s.k[l][at:at+P*D], D, P, 1, D) // [D, P]
	vm := packedmm.Pack(s.v[l][at:at+P*D], P, D, D, 1) // [P, D]
	for g := range G {
		hd := kvh*G + g // HF's repeat_kv, as attend
		for t := range run.n {
			q := (run.r+t)*nqkv + hd*D
			copy(buf.q[(g*run.n+t)*D:(g*run.n+t+1)*D], s.qkv[q:q+D])
		}
	}
	packedmm.Mul(buf.sc, buf.q, M, kt, workers)
	for i := range M {
		last := run.p + i%run.n // the token's own position
		row := buf.sc[i*P : (i+1)*P]
		mx := float32(math.Inf(-1))
		for _, v := range row[:last+1] {
			mx = max(mx, v)
		}
		buf.inv[i] = 1 / vecmath.ExpShiftSum(row[:last+1], row[:last+1], mx)
		clear(row[last+1:])
	}
	packedmm.Mul(buf.out, buf.sc, M, vm, workers)
	for g := range G {
		hd := kvh*G + g
		for t := range run.n {
			i := g*run.n + t
			out := s.att[(run.r+t)*Hq*D+hd*D : (run.r+t)*Hq*D+(hd+1)*D]
			for d, v := range buf.out[i*D : (i+1)*D] {
				out[d] = v * buf.inv[i]
			}
		}
	}
}

// attention writes att [B, Hq·D] from the queries of B token rows in qkv
// and the cache of layer l, the (row, kv head) pairs split between workers.
func (s *hostStep) attention(l, B int, lo, slot []int) {
	c := s.cfg
	Hkv := c.NumKeyValueHeads
	tasks := B * Hkv
	work := 0
	for b := range B {
		work += slot[b] - lo[b] + 1
	}
	if work*c.NumAttentionHeads*c.HeadDim < 1<<14 || tasks < 2 {
		for t := range tasks {
			s.attend(l, t, lo, slot, s.scores[0])
		}
		return
	}
	var wg sync.WaitGroup
	for wk := 1; wk < attentionWorkers; wk++ {
		wg.Go(func() {
			for t := wk; t < tasks; t += attentionWorkers {
				s.attend(l, t, lo, slot, s.scores[wk])
			}
		})
	}
	for t := 0; t < tasks; t += attentionWorkers {
		s.attend(l, t, lo, slot, s.scores[0])
	}
	wg.Wait()
}

// attend is task t = b·Hkv + kv head: its G query heads against slots
// [lo[b], slot[b]] of that head's cache.
func (s *hostStep) attend(l, t int, lo, slot []int, sc []float32) {
	c := s.cfg
	D, Hq, Hkv := c.HeadDim, c.NumAttentionHeads, c.NumKeyValueHeads
	G := Hq / Hkv
	b, kvh := t/Hkv, t%Hkv
	nqkv := (Hq + 2*Hkv) * D
	ct := s.row(b)*Hkv + kvh
	keys := s.k[l][ct*s.S*D : (ct+1)*s.S*D]
	vals := s.v[l][ct*s.S*D : (ct+1)*s.S*D]
	first, last := lo[b], slot[b]
	for g := range G {
		hd := kvh*G + g // HF's repeat_kv: query head hd uses kv head hd/G
		q := s.qkv[b*nqkv+hd*D : b*nqkv+(hd+1)*D]
		mx := float32(math.Inf(-1))
		for p := first; p <= last; p++ {
			v := dot(q, keys[p*D:(p+1)*D])
			sc[p] = v
			mx = max(mx, v)
		}
		sum := vecmath.ExpShiftSum(sc[first:last+1], sc[first:last+1], mx)
		out := s.att[b*Hq*D+hd*D : b*Hq*D+(hd+1)*D]
		clear(out)
		inv := 1 / sum
		for p := first; p <= last; p++ {
			axpy(out, sc[p]*inv, vals[p*D:(p+1)*D])
		}
	}
}

// rmsNormRows sets dst = x / sqrt(mean(x²) + eps) · w for each row of n.
func rmsNormRows(dst, x, w []float32, n int, eps float32) {
	for r := 0; r < len(x); r += n {
		xr, dr := x[r:r+n], dst[r:r+n]
		ms := dot(xr, xr) / float32(n)
		den := float32(math.Sqrt(float64(ms + eps)))
		for i, v := range xr {
			dr[i] = v / den * w[i]
		}
	}
}

// ropeRow rotates x in place: x·cos + rotate_half(x)·sin (HF's convention).
func ropeRow(x, cos, sin []float32) {
	half := len(x) / 2
	for i := range half {
		x1, x2 := x[i], x[i+half]
		x[i] = x1*cos[i] - x2*sin[i]
		x[i+half] = x2*cos[i+half] + x1*sin[i+half]
	}
}

func addTo(dst, x []float32) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] += x[i]
	}
}

// dot and axpy: the attention's inner loops, eight lanes at a time on AVX2.
var dot, axpy = vecmath.Dot, vecmath.Axpy

// Continuous batching (decode.go) on the host: the Batcher keeps a hostStep
// as its cache, re-lays it out on the host and prefills new sequences'
// rows in place.

// relayout returns a hostStep of B rows and S positions whose row i is row
// idx[i] of s (positions cut or zero-padded; none for idx[i] < 0); s may be
// nil. With S unchanged the rows move within s's memory, which keeps the
// largest B it had: batches that shrink and grow again (sequences leaving,
// the next requests joining) allocate nothing.
func (s *hostStep) relayout(cfg *Config, w *hostWeights, B, S int, idx []int32) *hostStep {
	if s != nil && S == s.S && B <= s.capB {
		s.moveRows(B, idx)
		return s
	}
	n := newHostStep(cfg, w, B, S)
	if s == nil {
		return n
	}
	D, Hkv := cfg.HeadDim, cfg.NumKeyValueHeads
	keep := min(S, s.S) * D
	for l := range s.k {
		for i, old := range idx {
			if old < 0 || int(old) >= s.B {
				continue
			}
			for h := range Hkv {
				src, dst := (int(old)*Hkv+h)*s.S*D, (i*Hkv+h)*S*D
				copy(n.k[l][dst:dst+keep], s.k[l][src:src+keep])
				copy(n.v[l][dst:dst+keep], s.v[l][src:src+keep])
			}
		}
	}
	return n
}

// moveRows resizes s to B rows (within capB) whose row i is row idx[i]
// (none for idx[i] < 0). The rows only move towards the front (idx[i] ≥ i,
// as layout compacts), so they are copied in place in order.
func (s *hostStep) moveRows(B int, idx []int32) {
	D, Hkv := s.cfg.HeadDim, s.cfg.NumKeyValueHeads
	row := Hkv * s.S * D
	for l := range s.k {
		s.k[l], s.v[l] = s.k[l][:B*row], s.v[l][:B*row]
		for i, old := range idx {
			if old < 0 || int(old) == i || int(old) >= s.B {
				continue
			}
			if int(old) < i {
				panic("hostStep.moveRows: a row moves backwards")
			}
			copy(s.k[l][i*row:(i+1)*row], s.k[l][int(old)*row:(int(old)+1)*row])
			copy(s.v[l][i*row:(i+1)*row], s.v[l][int(old)*row:(int(old)+1)*row])
		}
	}
	s.setRows(B)
}
