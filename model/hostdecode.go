package model

import (
	"math"
	"os"
	"slices"
	"sync"

	"github.com/gomlx/compute/gobackend/packedmm"
	"github.com/gomlx/compute/gobackend/vecmath"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
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
// per token. The prefill still runs as a graph (a few hundred tokens at once
// is what the GEMM is good at) and its cache is copied here once.

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
	cfg *Config
	w   *hostWeights
	B   int // rows
	S   int // cache positions per row
	// k, v: per layer [B, Hkv, S, D] (keys not transposed: a score is a
	// contiguous dot product here).
	k, v [][]float32

	x, h, qkv, att, proj, gu, act, logits []float32
	cos, sin                              []float32
	scores                                [][]float32 // per attention worker [S]
}

func newHostStep(cfg *Config, w *hostWeights, B, S int) *hostStep {
	H, D, I, V := cfg.HiddenSize, cfg.HeadDim, cfg.IntermediateSize, cfg.VocabSize
	Hq, Hkv := cfg.NumAttentionHeads, cfg.NumKeyValueHeads
	s := &hostStep{cfg: cfg, w: w, B: B, S: S,
		x: make([]float32, B*H), h: make([]float32, B*H), qkv: make([]float32, B*(Hq+2*Hkv)*D),
		att: make([]float32, B*Hq*D), proj: make([]float32, B*H), gu: make([]float32, B*2*I),
		act: make([]float32, B*I), logits: make([]float32, B*V),
		cos: make([]float32, B*D), sin: make([]float32, B*D)}
	for range cfg.NumHiddenLayers {
		s.k = append(s.k, make([]float32, B*Hkv*S*D))
		s.v = append(s.v, make([]float32, B*Hkv*S*D))
	}
	for range attentionWorkers {
		s.scores = append(s.scores, make([]float32, S))
	}
	return s
}

const attentionWorkers = 2

// loadCache copies a graph cache (per layer K [B,Hkv,D,S] transposed, then
// V [B,Hkv,S,D]) into the host cache.
func (s *hostStep) loadCache(cache []*tensors.Tensor) error {
	D, Hkv, S := s.cfg.HeadDim, s.cfg.NumKeyValueHeads, s.S
	for l := range s.cfg.NumHiddenLayers {
		kT, err := tensors.CopyFlatData[float32](cache[2*l])
		if err != nil {
			return err
		}
		v, err := tensors.CopyFlatData[float32](cache[2*l+1])
		if err != nil {
			return err
		}
		copy(s.v[l], v)
		k := s.k[l]
		for bh := range s.B * Hkv {
			src, dst := kT[bh*D*S:(bh+1)*D*S], k[bh*S*D:(bh+1)*S*D]
			for d := range D {
				for p := range S {
					dst[p*D+d] = src[d*S+p]
				}
			}
		}
	}
	return nil
}

// run feeds token ids[b] to every row b at RoPE position pos[b], writes its
// key and value at cache slot slot[b], attends to slots [lo[b], slot[b]] and
// returns the next-token logits [B·V] (valid until the next call).
func (s *hostStep) run(ids []int32, pos, lo, slot []int) []float32 {
	c, w := s.cfg, s.w
	B, H, D, I := s.B, c.HiddenSize, c.HeadDim, c.IntermediateSize
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
				at := ((b*Hkv+hd)*s.S + slot[b]) * D
				copy(s.k[l][at:at+D], k)
				copy(s.v[l][at:at+D], row[(Hq+Hkv+hd)*D:(Hq+Hkv+hd+1)*D])
			}
		}
		s.attention(l, lo, slot)
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
	rmsNormRows(s.h, s.x, w.norm, H, eps)
	packedmm.Mul(s.logits, s.h, B, w.head, 0)
	return s.logits
}

// rope fills cos and sin [B, D] for each row's position, as ropeTables.
func (s *hostStep) rope(pos []int) {
	D := s.cfg.HeadDim
	half := D / 2
	for b, p := range pos {
		for j := range D {
			a := float64(p) * (1 / math.Pow(s.cfg.RopeTheta, float64(2*(j%half))/float64(D)))
			s.cos[b*D+j], s.sin[b*D+j] = float32(math.Cos(a)), float32(math.Sin(a))
		}
	}
}

// attention writes att [B, Hq·D] from the queries in qkv and the cache of
// layer l, the (row, kv head) pairs split between workers.
func (s *hostStep) attention(l int, lo, slot []int) {
	c := s.cfg
	Hkv := c.NumKeyValueHeads
	tasks := s.B * Hkv
	work := 0
	for b := range s.B {
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
	keys := s.k[l][t*s.S*D : (t+1)*s.S*D]
	vals := s.v[l][t*s.S*D : (t+1)*s.S*D]
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
// as its cache, re-lays it out on the host and copies each prefill's cache
// rows into it.

// relayout returns a hostStep of B rows and S positions whose row i is row
// idx[i] of s (positions cut or zero-padded); s may be nil.
func (s *hostStep) relayout(cfg *Config, w *hostWeights, B, S int, idx []int32) *hostStep {
	n := newHostStep(cfg, w, B, S)
	if s == nil {
		return n
	}
	D, Hkv := cfg.HeadDim, cfg.NumKeyValueHeads
	keep := min(S, s.S) * D
	for l := range s.k {
		for i, old := range idx {
			if int(old) >= s.B {
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

// loadRows copies row src[r] of a prefill's cache (per layer K [K,Hkv,D,S]
// transposed, V [K,Hkv,S,D], S as s.S) into row r for every r with sel[r].
func (s *hostStep) loadRows(cache []*tensors.Tensor, src, sel []int32) error {
	D, Hkv, S := s.cfg.HeadDim, s.cfg.NumKeyValueHeads, s.S
	for l := range s.cfg.NumHiddenLayers {
		kT, err := tensors.CopyFlatData[float32](cache[2*l])
		if err != nil {
			return err
		}
		v, err := tensors.CopyFlatData[float32](cache[2*l+1])
		if err != nil {
			return err
		}
		for r := range s.B {
			if sel[r] == 0 {
				continue
			}
			for h := range Hkv {
				from, to := (int(src[r])*Hkv+h)*S*D, (r*Hkv+h)*S*D
				copy(s.v[l][to:to+S*D], v[from:from+S*D])
				k, kt := s.k[l][to:to+S*D], kT[from:from+S*D]
				for d := range D {
					for p := range S {
						k[p*D+d] = kt[d*S+p]
					}
				}
			}
		}
	}
	return nil
}

// prefillGraph: decode-layout weights, ids [K,T], cos, sin [K,T,D], mask
// [K,T,S], last [K,2] (each prompt's last real position) → logits [K,V] of
// each prompt's last token, then each layer's fresh cache K [K,Hkv,D,S], V
// [K,Hkv,S,D] (joinGraph without merging into a running batch's cache).
func (m *Model) prefillGraph(g *Graph, in []*Node) []*Node {
	P := len(m.Names)
	net := bind(m.Config, m.Names, in[:P])
	net.inOut, net.LMHead = true, in[P]
	in = in[P+1:]
	ids, cos, sin, mask, last := in[0], in[1], in[2], in[3], in[4]
	c := m.Config
	Hkv, D, H := c.NumKeyValueHeads, c.HeadDim, c.HiddenSize
	K, S := ids.Shape().Dimensions[0], mask.Shape().Dimensions[2]
	var fresh []kvCache
	for range c.NumHiddenLayers {
		fresh = append(fresh, kvCache{K: Zeros(g, shapeF32(K, Hkv, D, S)), V: Zeros(g, shapeF32(K, Hkv, S, D))})
	}
	h, fresh := net.forward(ids, cos, sin, mask, fresh, Const(g, int32(0)))
	hl := Gather(h, last) // [K,H]
	outs := []*Node{Reshape(net.logits(Reshape(hl, K, 1, H)), K, c.VocabSize)}
	for _, f := range fresh {
		outs = append(outs, f.K, f.V)
	}
	return outs
}
