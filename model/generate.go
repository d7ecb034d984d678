package model

import (
	"context"
	"fmt"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// GenerateOptions configure Generate. The zero value is greedy decoding of
// up to 16 tokens, stopping at the model's EOS ids.
type GenerateOptions struct {
	MaxNewTokens int     // default 16
	Temperature  float64 // 0 = greedy (argmax)
	TopK         int     // 0 = no top-k filter
	TopP         float64 // 0 or 1 = no nucleus filter
	Seed         uint64  // sampling seed; row i uses the stream (Seed, i)
	// EOS ids end a row (the EOS token is kept in Tokens). nil: the model's
	// generation_config.json ids; use an empty non-nil slice for none.
	EOS []int
	// StopStrings end a row as soon as Decode(tokens so far) contains one.
	StopStrings []string
	Decode      func(ids []int) string
	// TopLogprobs > 0 also returns, at every step, that many most likely
	// tokens with their log-probs.
	TopLogprobs int
	// NoCache recomputes the whole sequence at every step (a check of the
	// KV-cache path; slow).
	NoCache bool
	// Progress, if set, is called after every decoding step.
	Progress func(step int)
}

// TokenLogprob is one candidate token with its log-probability.
type TokenLogprob struct {
	ID      int     `json:"id"`
	Logprob float32 `json:"logprob"`
}

// Generation is one row's result.
type Generation struct {
	Tokens   []int            `json:"tokens"`
	Logprobs []float32        `json:"logprobs"` // log p(token) under the model (temperature 1, no filtering)
	Top      [][]TokenLogprob `json:"top_logprobs,omitempty"`
	// FinishReason is "eos", "stop" (a stop string) or "length".
	FinishReason string `json:"finish_reason"`
}

// Generate continues each prompt (a batch of different lengths). Prompts are
// left-padded so all rows share one cache index; each row keeps its own RoPE
// positions and never attends to its padding.
func (m *Model) Generate(ctx context.Context, prompts [][]int, opt GenerateOptions) ([]Generation, error) {
	if len(prompts) == 0 {
		return nil, nil
	}
	if opt.MaxNewTokens <= 0 {
		opt.MaxNewTokens = 16
	}
	if opt.EOS == nil {
		opt.EOS = m.EOSIDs()
	}
	if len(opt.StopStrings) > 0 && opt.Decode == nil {
		return nil, fmt.Errorf("generate: stop strings need a Decode function")
	}
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("generate: prompt %d is empty", i)
		}
		for _, id := range p {
			if id < 0 || id >= m.Config.VocabSize {
				return nil, fmt.Errorf("generate: prompt %d: token %d outside the vocabulary [0,%d)", i, id, m.Config.VocabSize)
			}
		}
	}
	samplers := make([]*sampler, len(prompts))
	for i := range samplers {
		samplers[i] = newSampler(opt, uint64(i))
	}
	var next func(step int, last []int) ([][]float32, error)
	if opt.NoCache {
		seqs := make([][]int, len(prompts))
		for i := range prompts {
			seqs[i] = slices.Clone(prompts[i])
		}
		next = func(step int, last []int) ([][]float32, error) {
			if step > 0 {
				for i := range seqs {
					seqs[i] = append(seqs[i], last[i])
				}
			}
			lg, err := m.Logits(seqs)
			if err != nil {
				return nil, err
			}
			rows := make([][]float32, len(seqs))
			for i := range seqs {
				rows[i] = lg[i][len(seqs[i])-1]
			}
			return rows, nil
		}
	} else {
		d, err := m.newDecoder(prompts, opt.MaxNewTokens)
		if err != nil {
			return nil, err
		}
		next = d.step
	}

	out := make([]Generation, len(prompts))
	done := make([]bool, len(prompts))
	last := make([]int, len(prompts))
	for step := range opt.MaxNewTokens {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows, err := next(step, last)
		if err != nil {
			return nil, err
		}
		allDone := true
		for i, row := range rows {
			if done[i] {
				continue
			}
			tok, lp, top := samplers[i].sample(row)
			g := &out[i]
			g.Tokens = append(g.Tokens, tok)
			g.Logprobs = append(g.Logprobs, lp)
			if opt.TopLogprobs > 0 {
				g.Top = append(g.Top, top)
			}
			last[i] = tok
			switch {
			case slices.Contains(opt.EOS, tok):
				done[i], g.FinishReason = true, "eos"
			case len(opt.StopStrings) > 0 && containsAny(opt.Decode(g.Tokens), opt.StopStrings):
				done[i], g.FinishReason = true, "stop"
			case len(g.Tokens) == opt.MaxNewTokens:
				done[i], g.FinishReason = true, "length"
			}
			allDone = allDone && done[i]
		}
		if opt.Progress != nil {
			opt.Progress(step)
		}
		if allDone {
			break
		}
	}
	return out, nil
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// decoder holds the KV cache of a batch being generated.
type decoder struct {
	m        *Model
	B, S     int // batch, cache length (a bucket)
	Tp       int // padded prompt length (a bucket)
	leftPads []int
	index    int // next cache slot to write
	prompts  [][]int
	cache    []*tensors.Tensor // per layer K [B,Hkv,D,S] then V [B,Hkv,S,D]
	// host, on a backend with host memory, runs the prefill and every step
	// on the host (hostdecode.go): each prompt unpadded from slot 0 of its
	// row, next[b] the row's next slot; no graph or cache tensor is made.
	host *hostStep
	next []int
	// the host step's inputs and outputs, reused
	hostIDs                   []int32
	hostPos, hostLo, hostSlot []int
	rows                      [][]float32
}

func (m *Model) newDecoder(prompts [][]int, maxNew int) (*decoder, error) {
	maxLen := 0
	for _, p := range prompts {
		maxLen = max(maxLen, len(p))
	}
	d := &decoder{m: m, B: len(prompts), Tp: bucket(maxLen), prompts: prompts}
	d.S = bucket(d.Tp + maxNew)
	c := m.Config
	if m.useHostDecode() {
		// The graph prefill held batch × heads × prompt² scores per layer
		// (128 demo prompts of ~400 tokens ran out of 24 GB); the host
		// prefill streams the prompts' tokens in chunks.
		w, err := m.hostWeights()
		if err != nil {
			return nil, err
		}
		d.host = newHostStep(c, w, d.B, d.S)
		d.next = make([]int, d.B)
		d.hostIDs = make([]int32, d.B)
		d.hostPos, d.hostLo, d.hostSlot = make([]int, d.B), make([]int, d.B), make([]int, d.B)
		d.rows = make([][]float32, d.B)
		return d, nil
	}
	for _, p := range prompts {
		d.leftPads = append(d.leftPads, d.Tp-len(p))
	}
	for range c.NumHiddenLayers { // K transposed [B,Hkv,D,S], V [B,Hkv,S,D]
		d.cache = append(d.cache, tensors.FromShape(shapeF32(d.B, c.NumKeyValueHeads, c.HeadDim, d.S)),
			tensors.FromShape(shapeF32(d.B, c.NumKeyValueHeads, d.S, c.HeadDim)))
	}
	return d, nil
}

// step feeds the prompt (step 0) or the last sampled tokens and returns the
// logits [B][V] of the next token.
func (d *decoder) step(step int, last []int) ([][]float32, error) {
	if d.host != nil {
		if step == 0 {
			return d.hostPrefill(), nil
		}
		return d.hostStep(last), nil
	}
	T := 1
	if step == 0 {
		T = d.Tp
	}
	ids := make([]int32, d.B*T)
	pos := make([][]int, d.B)
	mask := make([]float32, d.B*T*d.S)
	for b := range d.B {
		pos[b] = make([]int, T)
		for t := range T {
			abs := d.index + t // cache slot of this token
			if step == 0 {
				if t >= d.leftPads[b] {
					ids[b*T+t] = int32(d.prompts[b][t-d.leftPads[b]])
				}
			} else {
				ids[b*T+t] = int32(last[b])
			}
			pos[b][t] = max(abs-d.leftPads[b], 0)
			for k := range d.S {
				if k < d.leftPads[b] || k > abs {
					mask[(b*T+t)*d.S+k] = maskOff
				}
			}
		}
	}
	cos, sin := d.m.ropeInputs(pos)
	args := []any{tensors.FromFlatDataAndDimensions(ids, d.B, T), cos, sin,
		tensors.FromFlatDataAndDimensions(mask, d.B, T, d.S), tensors.FromScalar(int32(d.index))}
	e, err := d.m.Engine()
	if err != nil {
		return nil, err
	}
	for _, c := range d.cache {
		// Donate the cache: the step overwrites it in place instead of copying.
		buf, err := DonateTensorBuffer(c, e.backend, 0)
		if err != nil {
			return nil, err
		}
		args = append(args, buf)
	}
	weights, err := d.m.decodeWeights()
	if err != nil {
		return nil, err
	}
	out, err := d.m.runWith("decode", d.m.decodeGraph, weights, args...)
	if err != nil {
		return nil, err
	}
	d.index += T
	d.cache = out[1:]
	flat, err := tensors.CopyFlatData[float32](out[0])
	out[0].FinalizeAll()
	if err != nil {
		return nil, err
	}
	V := d.m.Config.VocabSize
	rows := make([][]float32, d.B)
	for b := range rows {
		rows[b] = flat[b*V : (b+1)*V]
	}
	return rows, nil
}

// hostPrefill runs every prompt into its row of the host cache, unpadded,
// and returns each prompt's next-token logits.
func (d *decoder) hostPrefill() [][]float32 {
	rows := make([]int, d.B)
	for b := range rows {
		rows[b] = b
		d.next[b] = len(d.prompts[b])
	}
	return d.splitRows(d.host.prefill(d.prompts, rows, prefillChunk))
}

// hostStep feeds the last sampled tokens to the host step.
func (d *decoder) hostStep(last []int) [][]float32 {
	for b := range d.B {
		d.hostIDs[b] = int32(last[b])
		d.hostPos[b], d.hostLo[b], d.hostSlot[b] = d.next[b], 0, d.next[b]
		d.next[b]++
	}
	return d.splitRows(d.host.run(d.hostIDs, d.hostPos, d.hostLo, d.hostSlot))
}

// splitRows views flat logits [B·V] as rows (valid until the next step).
func (d *decoder) splitRows(logits []float32) [][]float32 {
	V := d.m.Config.VocabSize
	for b := range d.rows {
		d.rows[b] = logits[b*V : (b+1)*V]
	}
	return d.rows
}

// decodeGraph: decode-layout weights (params with [in,out] projections,
// then the LM head [H,V]), ids [B,T], cos, sin [B,T,D], mask [B,T,S], start
// (int32 scalar), caches... → logits of the last position [B,V], caches...
func (m *Model) decodeGraph(g *Graph, in []*Node) []*Node {
	P := len(m.Names)
	net := bind(m.Config, m.Names, in[:P])
	net.inOut, net.LMHead = true, in[P]
	in = in[P+1:]
	ids, cos, sin, mask, start := in[0], in[1], in[2], in[3], in[4]
	var cache []kvCache
	for l := range m.Config.NumHiddenLayers {
		cache = append(cache, kvCache{K: in[5+2*l], V: in[6+2*l]})
	}
	h, cache := net.forward(ids, cos, sin, mask, cache, start)
	T := h.Shape().Dimensions[1]
	h = SliceAxis(h, 1, AxisElem(T-1))
	logits := Reshape(net.logits(h), h.Shape().Dimensions[0], m.Config.VocabSize)
	outs := []*Node{logits}
	for _, c := range cache {
		outs = append(outs, c.K, c.V)
	}
	return outs
}

// decodeWeights returns the weights in the decode layout: Names order with
// every projection matrix transposed to [in, out], then the LM head as
// [H, V]. At a few tokens per step the Go backend multiplies [M,K]·[K,N]
// 2-5x faster than [M,K]·[N,K]ᵀ (its small "transposed" kernel reduces
// every dot product horizontally). Made once per set of parameters; the
// embedding keeps its [V, H] layout for the lookup.
func (m *Model) decodeWeights() ([]*tensors.Tensor, error) {
	// Keyed by tensor identity: updates that replace tensors invalidate it by
	// themselves, in-place ones call paramsChanged.
	src := make([]*tensors.Tensor, len(m.Names))
	for i, n := range m.Names {
		src[i] = m.Params[n]
	}
	if m.decW != nil && slices.Equal(src, m.decSrc) {
		return m.decW, nil
	}
	var idx []int // which of src get transposed
	for i, n := range m.Names {
		if strings.HasSuffix(n, "_proj.weight") {
			idx = append(idx, i)
		}
	}
	head := slices.Index(m.Names, "lm_head.weight")
	if m.Config.TieWordEmbeddings {
		head = slices.Index(m.Names, "model.embed_tokens.weight")
	}
	idx = append(idx, head)
	e, err := m.Engine()
	if err != nil {
		return nil, err
	}
	ex, err := m.graphs.get(e, "transpose", func(g *Graph, in []*Node) []*Node {
		out := make([]*Node, len(in))
		for i, x := range in {
			out[i] = Transpose(x, 0, 1)
		}
		return out
	})
	if err != nil {
		return nil, err
	}
	args := make([]any, len(idx))
	for j, i := range idx {
		args[j] = src[i]
	}
	tr, err := ex.Exec(args...)
	if err != nil {
		return nil, err
	}
	w := slices.Clone(src)
	for j, i := range idx[:len(idx)-1] {
		w[i] = tr[j]
	}
	m.decSrc, m.decW = src, append(w, tr[len(tr)-1])
	return m.decW, nil
}

// paramsChanged drops what was derived from the parameters after they were
// updated in place.
func (m *Model) paramsChanged() { m.decSrc, m.decW, m.host, m.hostSrc = nil, nil, nil, nil }
