package model

import (
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph code reads best unqualified
)

// layer is one Qwen3 decoder block; fields are the HF tensors
// model.layers.N.<name>.
type layer struct {
	InputLayernorm         *Node // input_layernorm.weight [H]
	QProj, KProj, VProj    *Node // self_attn.{q,k,v}_proj.weight [heads*D, H]
	OProj                  *Node // self_attn.o_proj.weight [H, heads*D]
	QBias, KBias, VBias    *Node // self_attn.*_proj.bias, only with attention_bias
	OBias                  *Node
	QNorm, KNorm           *Node // self_attn.{q,k}_norm.weight [D]: RMSNorm per head, before RoPE
	PostAttentionLayernorm *Node // post_attention_layernorm.weight [H]
	GateProj, UpProj       *Node // mlp.{gate,up}_proj.weight [I, H]
	DownProj               *Node // mlp.down_proj.weight [H, I]
}

// qwen3 is the network as graph nodes, bound to the parameters of one graph.
type qwen3 struct {
	cfg         *Config
	EmbedTokens *Node // model.embed_tokens.weight [V, H]
	Layers      []layer
	Norm        *Node // model.norm.weight [H]
	LMHead      *Node // lm_head.weight [V, H], or EmbedTokens when tied
	// inOut: projection matrices and LMHead are stored transposed, [in, out]
	// (the decode layout, see decodeWeights).
	inOut bool
}

// bind maps parameter nodes (in Model.Names order) to the network's fields.
func bind(cfg *Config, names []string, params []*Node) *qwen3 {
	p := map[string]*Node{}
	for i, n := range names {
		p[n] = params[i]
	}
	q := &qwen3{cfg: cfg, EmbedTokens: p["model.embed_tokens.weight"], Norm: p["model.norm.weight"]}
	q.LMHead = p["lm_head.weight"]
	if cfg.TieWordEmbeddings {
		q.LMHead = q.EmbedTokens
	}
	for l := range cfg.NumHiddenLayers {
		pre := "model.layers." + itoa(l) + "."
		q.Layers = append(q.Layers, layer{
			InputLayernorm:         p[pre+"input_layernorm.weight"],
			QProj:                  p[pre+"self_attn.q_proj.weight"],
			KProj:                  p[pre+"self_attn.k_proj.weight"],
			VProj:                  p[pre+"self_attn.v_proj.weight"],
			OProj:                  p[pre+"self_attn.o_proj.weight"],
			QBias:                  p[pre+"self_attn.q_proj.bias"],
			KBias:                  p[pre+"self_attn.k_proj.bias"],
			VBias:                  p[pre+"self_attn.v_proj.bias"],
			OBias:                  p[pre+"self_attn.o_proj.bias"],
			QNorm:                  p[pre+"self_attn.q_norm.weight"],
			KNorm:                  p[pre+"self_attn.k_norm.weight"],
			PostAttentionLayernorm: p[pre+"post_attention_layernorm.weight"],
			GateProj:               p[pre+"mlp.gate_proj.weight"],
			UpProj:                 p[pre+"mlp.up_proj.weight"],
			DownProj:               p[pre+"mlp.down_proj.weight"],
		})
	}
	return q
}

// kvCache is one layer's keys, stored transposed as [B, kvHeads, D, S] so
// that q·kᵀ is a plain [M,K]·[K,N] product (the Go backend's fast small
// kernel at one token per step), and values [B, kvHeads, S, D].
type kvCache struct{ K, V *Node }

// forward runs the decoder on ids [B,T] (int32).
//
//   - cos, sin [B,T,D]: RoPE tables for each token's position (computed on
//     the host in float64, so padded rows simply carry their own positions);
//   - mask [B,T,S]: additive attention mask (0 = attend, -1e9 = not), which
//     encodes causality and padding;
//   - cache: nil for a plain forward (S == T); otherwise every layer's cache
//     of length S, and the new keys/values are written at index start before
//     attending, which serves both the prefill and the one-token decode step.
//
// It returns the final-normed hidden states [B,T,H] and the updated caches.
func (q *qwen3) forward(ids, cos, sin, mask *Node, cache []kvCache, start *Node) (*Node, []kvCache) {
	B, T := ids.Shape().Dimensions[0], ids.Shape().Dimensions[1]
	// Tokens are flattened to [B·T, H] between layers: every projection is
	// then one 2-D product, and its weight gradient (contracting over the
	// tokens) needs no reshape of the activations, which the Go backend
	// would copy.
	x := Reshape(Gather(q.EmbedTokens, InsertAxes(ids, -1)), B*T, q.cfg.HiddenSize)
	// Broadcasts shared by every layer are built once: the Go backend
	// materialises each broadcast.
	Hq, Hkv, D := q.cfg.NumAttentionHeads, q.cfg.NumKeyValueHeads, q.cfg.HeadDim
	S := mask.Shape().Dimensions[2]
	rot := rotary{
		cosQ: BroadcastToDims(InsertAxes(cos, 2), B, T, Hq, D), sinQ: BroadcastToDims(InsertAxes(sin, 2), B, T, Hq, D),
		cosK: BroadcastToDims(InsertAxes(cos, 2), B, T, Hkv, D), sinK: BroadcastToDims(InsertAxes(sin, 2), B, T, Hkv, D),
	}
	mask = BroadcastToDims(Reshape(mask, B, 1, 1, T, S), B, Hkv, Hq/Hkv, T, S)
	var newCache []kvCache
	for l := range q.Layers {
		var c *kvCache
		if cache != nil {
			c = &cache[l]
		}
		var h *Node
		h, c = q.attention(&q.Layers[l], rmsNorm(x, q.Layers[l].InputLayernorm, q.cfg.RMSNormEps), B, T, rot, mask, c, start)
		x = Add(x, h)
		x = Add(x, q.mlp(&q.Layers[l], rmsNorm(x, q.Layers[l].PostAttentionLayernorm, q.cfg.RMSNormEps)))
		if c != nil {
			newCache = append(newCache, *c)
		}
	}
	return Reshape(rmsNorm(x, q.Norm, q.cfg.RMSNormEps), B, T, q.cfg.HiddenSize), newCache
}

// logits projects hidden states [B,T,H] to the vocabulary [B,T,V], as one
// [B·T,H] product (see forward).
func (q *qwen3) logits(h *Node) *Node {
	d := h.Shape().Dimensions
	y := q.linear(Reshape(h, d[0]*d[1], d[2]), q.LMHead, nil)
	return Reshape(y, d[0], d[1], y.Shape().Dimensions[1])
}

// attention is grouped-query attention: kvHeads key/value heads, each shared
// by heads/kvHeads query heads, with q/k RMSNorm per head before RoPE (Qwen3).
//
// x is [B·T, H]; mask is [B,Hkv,G,T,S], already broadcast over heads.
func (q *qwen3) attention(w *layer, x *Node, B, T int, rot rotary, mask *Node, cache *kvCache, start *Node) (*Node, *kvCache) {
	Hq, Hkv, D := q.cfg.NumAttentionHeads, q.cfg.NumKeyValueHeads, q.cfg.HeadDim
	G := Hq / Hkv

	qh := Reshape(q.linear(x, w.QProj, w.QBias), B, T, Hq, D)
	kh := Reshape(q.linear(x, w.KProj, w.KBias), B, T, Hkv, D)
	vh := Reshape(q.linear(x, w.VProj, w.VBias), B, T, Hkv, D)
	qh = rope(rmsNorm(qh, w.QNorm, q.cfg.RMSNormEps), rot.cosQ, rot.sinQ)
	kh = rope(rmsNorm(kh, w.KNorm, q.cfg.RMSNormEps), rot.cosK, rot.sinK)
	// Scale queries by 1/√D here: G·T·D values instead of G·T·S scores.
	qh = MulScalar(qh, 1/math.Sqrt(float64(D)))

	// Heads first: [B, heads, T, D]. Query head h uses kv head h/G (HF's
	// repeat_kv), so [B,Hq,T,D] viewed as [B,Hkv,G*T,D] lines each group up
	// with its kv head without copying keys G times.
	qh = Reshape(TransposeAllAxes(qh, 0, 2, 1, 3), B, Hkv, G*T, D)
	kh = TransposeAllAxes(kh, 0, 2, 1, 3)
	vh = TransposeAllAxes(vh, 0, 2, 1, 3)
	// One merged batch axis (B·Hkv): the Go backend's matmul kernels take a
	// single leading batch axis; more would cost a transpose per product.
	q3 := Reshape(qh, B*Hkv, G*T, D)
	var scores, v3 *Node
	if cache != nil {
		kT := writeCache(cache.K, TransposeAllAxes(kh, 0, 1, 3, 2), start, 3) // [B,Hkv,D,S]
		vh = writeCache(cache.V, vh, start, 2)                                // [B,Hkv,S,D]
		cache = &kvCache{K: kT, V: vh}
		S := kT.Shape().Dimensions[3]
		v3 = Reshape(vh, B*Hkv, S, D)
		scores = DotGeneral(q3, []int{2}, []int{0}, Reshape(kT, B*Hkv, D, S), []int{1}, []int{0})
	} else {
		v3 = Reshape(vh, B*Hkv, T, D)
		scores = DotGeneral(q3, []int{2}, []int{0}, Reshape(kh, B*Hkv, T, D), []int{2}, []int{0})
	}
	S := scores.Shape().Dimensions[2] // scores: [B·Hkv, G·T, S]
	scores = Add(Reshape(scores, B, Hkv, G, T, S), mask)
	probs := Reshape(softmax(scores), B*Hkv, G*T, S)
	out := DotGeneral(probs, []int{2}, []int{0}, v3, []int{1}, []int{0}) // [B·Hkv, G·T, D]
	out = TransposeAllAxes(Reshape(out, B, Hq, T, D), 0, 2, 1, 3)        // [B,T,Hq,D]
	return q.linear(Reshape(out, B*T, Hq*D), w.OProj, w.OBias), cache
}

// writeCache stores new (T positions on axis) into cache (S positions on
// the same axis) at slot start. The Go backend has no DynamicUpdateSlice,
// so: a one-token step selects its slot with a mask (Where), and a
// multi-token step is a prefill that always starts at slot 0, so it is the
// new entries padded with zeros. start is a scalar, or one slot per row [B].
func writeCache(cache, new, start *Node, axis int) *Node {
	dims := cache.Shape().Dimensions
	T, S := new.Shape().Dimensions[axis], dims[axis]
	if T > 1 {
		if T == S {
			return new
		}
		zd := slices.Clone(dims)
		zd[axis] = S - T
		return Concatenate([]*Node{new, Zeros(new.Graph(), shapes.Make(new.DType(), zd...))}, axis)
	}
	sd := ones(len(dims))
	sd[axis] = S
	var slot *Node
	if start.Rank() == 1 { // one slot per row (continuous batching, decode.go)
		B := dims[0]
		slot = Equal(Iota(new.Graph(), shapes.Make(dtypes.Int32, B, S), 1),
			BroadcastToDims(InsertAxes(start, -1), B, S)) // [B,S]
		sd[0] = B
	} else {
		slot = Equal(Iota(new.Graph(), shapes.Make(dtypes.Int32, S), 0), start) // [S]
	}
	slot = BroadcastToDims(Reshape(slot, sd...), dims...)
	return Where(slot, BroadcastToDims(new, dims...), cache)
}

// mlp is SwiGLU: down(silu(gate(x)) * up(x)).
func (q *qwen3) mlp(w *layer, x *Node) *Node {
	g := q.linear(x, w.GateProj, nil)
	return q.linear(Mul(Mul(g, Sigmoid(g)), q.linear(x, w.UpProj, nil)), w.DownProj, nil)
}

// linear is x·Wᵀ (+ b) with W in PyTorch's [out, in] layout, or x·W with
// W as [in, out] in the decode layout.
func (q *qwen3) linear(x, w, b *Node) *Node {
	contract := 1
	if q.inOut {
		contract = 0
	}
	y := DotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{contract}, nil)
	if b != nil {
		y = Add(y, BroadcastToDims(Reshape(b, append(ones(y.Rank()-1), b.Shape().Dimensions[0])...), y.Shape().Dimensions...))
	}
	return y
}

// softmax is Softmax over the last axis with its gradient written out:
// ∂L/∂x = p ⊙ (v − Σ v⊙p) for upstream v. GoMLX differentiates its fused
// softmax through the decomposed graph (max, sub, exp, sum, div), which the
// Go backend then has to run alongside the fused forward; the closed form
// needs only p. The mask is −1e9, not −∞, so p·v is never 0·∞.
func softmax(x *Node) *Node {
	p := StopGradient(Softmax(x, -1))
	grad := IdentityWithCustomGradient(x, func(_, v *Node) *Node {
		dot := ReduceAndKeep(Mul(v, p), ReduceSum, -1)
		return Mul(p, Sub(v, BroadcastToDims(dot, p.Shape().Dimensions...)))
	})
	// p in value, grad's gradient in the backward pass.
	return Add(p, Sub(grad, StopGradient(grad)))
}

// rmsNorm normalises the last axis: x / sqrt(mean(x²) + eps) * w, in float32 as HF.
func rmsNorm(x, w *Node, eps float64) *Node {
	dims := x.Shape().Dimensions
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	// Div by Sqrt rather than Rsqrt: GoMLX has no gradient for Rsqrt.
	y := Div(x, BroadcastToDims(Sqrt(AddScalar(ms, eps)), dims...))
	return Mul(y, BroadcastToDims(Reshape(w, append(ones(len(dims)-1), dims[len(dims)-1])...), dims...))
}

// rotary holds the RoPE tables broadcast to the query and key shapes [B,T,heads,D].
type rotary struct{ cosQ, sinQ, cosK, sinK *Node }

// rope rotates x [B,T,heads,D] by the position angles: x·cos + rotate_half(x)·sin,
// where rotate_half(x) = (-x[D/2:], x[:D/2]) as in HF (not interleaved pairs).
func rope(x, cos, sin *Node) *Node {
	D := x.Shape().Dimensions[3]
	x1 := SliceAxis(x, 3, AxisRange(0, D/2))
	x2 := SliceAxis(x, 3, AxisRange(D/2, D))
	rot := Concatenate([]*Node{Neg(x2), x1}, 3)
	return Add(Mul(x, cos), Mul(rot, sin))
}

func ones(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = 1
	}
	return o
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// ropeTables returns cos and sin [B,T,D] for positions pos[b][t], computed
// in float64: inv_freq_i = theta^(-2i/D), angle = pos·inv_freq, repeated for
// both halves as HF's rotate_half convention expects.
func ropeTables(theta float64, D int, pos [][]int) (cos, sin []float32) {
	half := D / 2
	inv := make([]float64, half)
	for i := range inv {
		inv[i] = 1 / math.Pow(theta, float64(2*i)/float64(D))
	}
	for _, row := range pos {
		for _, p := range row {
			for j := range D {
				a := float64(p) * inv[j%half]
				cos = append(cos, float32(math.Cos(a)))
				sin = append(sin, float32(math.Sin(a)))
			}
		}
	}
	return cos, sin
}
