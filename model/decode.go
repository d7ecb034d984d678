package model

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// Continuous batching. A Batcher keeps one running batch: every row of the
// KV cache belongs to one sequence, which writes its next key/value at its
// own slot (its length so far) with its own RoPE position and mask. The
// sequences queued at a step boundary are prefilled together and their
// cache rows are written into free rows of the batch before the next step;
// a finished or cancelled sequence leaves between two steps and its row is
// free at once. The batch (B rows) and the cache length (S) are kept at
// bucket sizes, re-laid out (rows gathered, the cache cut or padded) only
// when the running set needs another bucket, so only a few graphs are ever
// compiled. An idle batcher waits a little for requests about to arrive
// (gather), so that they share one prefill and then run in step.

// BatcherOptions configure NewBatcher.
type BatcherOptions struct {
	MaxBatch int // sequences decoded together (default 16)
	MaxQueue int // sequences waiting to join; Submit fails with ErrQueueFull beyond (default 256)
	// MaxLen bounds prompt + generated tokens of a sequence (default: the
	// config's max_position_embeddings).
	MaxLen int
	// OnStep, if set, is called on the decoding goroutine after every decode
	// step with the number of sequences it advanced and its duration.
	OnStep func(batch int, d time.Duration)
	// HostStep runs the decode steps on the host (hostdecode.go; Go backend
	// only, ignored elsewhere or with STAR_HOST_DECODE=0): several times
	// faster on small models. star serve and Sim-RL's rollouts turn it on.
	HostStep bool

	returnWait time.Duration // defaultReturnWait; tests make it long
}

// ErrQueueFull is returned by Submit when MaxQueue sequences already wait.
var ErrQueueFull = errors.New("decode queue is full")

// ErrClosed is returned by Submit after Close, and ends sequences still running at Close.
var ErrClosed = errors.New("batcher closed")

// Batcher decodes sequences with continuous batching on one goroutine.
// It is safe for concurrent use.
type Batcher struct {
	m   *Model
	opt BatcherOptions

	mu      sync.Mutex
	pending []*Sequence
	jobs    []*job
	closed  bool
	active  int // sequences holding a row (read by Stats)
	stats   BatcherStats
	wake    chan struct{}
	done    chan struct{}

	submitted time.Time // the last Submit (under mu)

	// owned by the loop goroutine
	rows  []*Sequence // len B; nil = free row
	S     int         // cache length
	cache []*tensors.Tensor
	host  *hostStep // the cache on the host, instead of cache (hostdecode.go)
	group int       // Submit counter: sequences of one Submit share their prefill
	// Sequences that ended lately and whose clients may send the next
	// request at once: gather waits for them until expectBy.
	expect   int
	expectBy time.Time
}

// BatcherStats are counters since NewBatcher.
type BatcherStats struct {
	Active, Queued         int    // now
	Steps, Tokens, Prompts uint64 // decode steps, generated tokens, prefilled prompt tokens
}

type job struct {
	fn   func(*Model) error
	err  chan error
	ctx  context.Context
	done bool
}

// Sequence is one generation in a Batcher. Read it while it runs (Read,
// Changed) or wait for the end (Wait).
type Sequence struct {
	ctx    context.Context
	prompt []int
	opt    GenerateOptions
	smp    *sampler
	group  int
	row    int // row in the batch while active
	n      int // tokens in the cache
	last   int // last sampled token, fed at the next step

	mu      sync.Mutex
	gen     Generation
	err     error
	changed chan struct{} // capacity 1: a token arrived or the sequence ended
	ended   chan struct{} // closed at the end
}

// NewBatcher starts a continuous-batching decoder over m. Close stops it.
func (m *Model) NewBatcher(opt BatcherOptions) *Batcher {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 16
	}
	if opt.MaxQueue <= 0 {
		opt.MaxQueue = 256
	}
	if opt.MaxLen <= 0 {
		opt.MaxLen = m.Config.MaxPositionEmbeddings
	}
	if opt.returnWait <= 0 {
		opt.returnWait = defaultReturnWait
	}
	b := &Batcher{m: m, opt: opt, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go b.loop()
	return b
}

// MaxLen is the longest prompt + generation a sequence may have.
func (b *Batcher) MaxLen() int { return b.opt.MaxLen }

// Submit queues n generations of prompt (n ≥ 1). Choice i samples from the
// stream (opt.Seed, i), as row i of Generate does, so a sequence decoded
// here gives what Generate gives it. MaxNewTokens is capped by MaxLen.
// Cancelling ctx ends the sequences with ctx's error and frees their rows.
func (b *Batcher) Submit(ctx context.Context, prompt []int, n int, opt GenerateOptions) ([]*Sequence, error) {
	if n < 1 {
		return nil, fmt.Errorf("decode: n is %d, want ≥ 1", n)
	}
	if len(prompt) == 0 {
		return nil, fmt.Errorf("decode: empty prompt")
	}
	if len(prompt) >= b.opt.MaxLen {
		return nil, fmt.Errorf("decode: prompt has %d tokens, the limit is %d including at least one generated token", len(prompt), b.opt.MaxLen)
	}
	for _, id := range prompt {
		if id < 0 || id >= b.m.Config.VocabSize {
			return nil, fmt.Errorf("decode: token %d outside the vocabulary [0,%d)", id, b.m.Config.VocabSize)
		}
	}
	if len(opt.StopStrings) > 0 && opt.Decode == nil {
		return nil, fmt.Errorf("decode: stop strings need a Decode function")
	}
	if opt.MaxNewTokens <= 0 {
		opt.MaxNewTokens = 16
	}
	opt.MaxNewTokens = min(opt.MaxNewTokens, b.opt.MaxLen-len(prompt))
	if opt.EOS == nil {
		opt.EOS = b.m.EOSIDs()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if len(b.pending)+n > b.opt.MaxQueue {
		return nil, ErrQueueFull
	}
	b.group++
	seqs := make([]*Sequence, n)
	for i := range seqs {
		seqs[i] = &Sequence{ctx: ctx, prompt: prompt, opt: opt, smp: newSampler(opt, uint64(i)), group: b.group,
			changed: make(chan struct{}, 1), ended: make(chan struct{})}
	}
	b.pending = append(b.pending, seqs...)
	b.submitted = time.Now()
	b.signal()
	return seqs, nil
}

// Do runs fn on the decoding goroutine between two steps (the engine is
// used by one goroutine at a time), e.g. to score a prompt.
func (b *Batcher) Do(ctx context.Context, fn func(*Model) error) error {
	j := &job{fn: fn, err: make(chan error, 1), ctx: ctx}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.jobs = append(b.jobs, j)
	b.signal()
	b.mu.Unlock()
	select {
	case err := <-j.err:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the counters.
func (b *Batcher) Stats() BatcherStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Active, s.Queued = b.active, len(b.pending)
	return s
}

// Close ends every queued and running sequence with ErrClosed and stops
// the decoding goroutine. Callers that want to finish running work wait
// for it before closing.
func (b *Batcher) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		b.signal()
	}
	b.mu.Unlock()
	<-b.done
}

func (b *Batcher) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Changed is signalled when tokens arrive or the sequence ends.
func (s *Sequence) Changed() <-chan struct{} { return s.changed }

// Done is closed when the sequence ends.
func (s *Sequence) Done() <-chan struct{} { return s.ended }

// Prompt is the sequence's prompt.
func (s *Sequence) Prompt() []int { return s.prompt }

// Read returns the sequence from token from on: tokens, their log-probs and
// top alternatives; FinishReason is set once it has ended, and err when it
// ended with an error (cancelled, closed, engine failure).
func (s *Sequence) Read(from int) (g Generation, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from = min(from, len(s.gen.Tokens))
	g.Tokens = slices.Clone(s.gen.Tokens[from:])
	g.Logprobs = slices.Clone(s.gen.Logprobs[from:])
	if len(s.gen.Top) > 0 {
		g.Top = slices.Clone(s.gen.Top[from:])
	}
	g.FinishReason = s.gen.FinishReason
	return g, s.err
}

// Wait waits for the end of the sequence and returns all of it.
func (s *Sequence) Wait(ctx context.Context) (Generation, error) {
	select {
	case <-s.ended:
		return s.Read(0)
	case <-ctx.Done():
		return Generation{}, ctx.Err()
	}
}

// push appends a sampled token and reports whether the sequence is done.
func (s *Sequence) push(m *Model, tok int, lp float32, top []TokenLogprob) bool {
	s.mu.Lock()
	g := &s.gen
	g.Tokens = append(g.Tokens, tok)
	g.Logprobs = append(g.Logprobs, lp)
	if s.opt.TopLogprobs > 0 {
		g.Top = append(g.Top, top)
	}
	switch {
	case slices.Contains(s.opt.EOS, tok):
		g.FinishReason = "eos"
	case len(s.opt.StopStrings) > 0 && containsAny(s.opt.Decode(g.Tokens), s.opt.StopStrings):
		g.FinishReason = "stop"
	case len(g.Tokens) >= s.opt.MaxNewTokens:
		g.FinishReason = "length"
	}
	done := g.FinishReason != ""
	if done {
		close(s.ended)
	}
	s.mu.Unlock()
	s.last = tok
	s.notify()
	return done
}

// fail ends the sequence with err.
func (s *Sequence) fail(err error) {
	s.mu.Lock()
	if s.err == nil && s.gen.FinishReason == "" {
		s.err = err
		close(s.ended)
	}
	s.mu.Unlock()
	s.notify()
}

func (s *Sequence) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// loop is the decoding goroutine.
func (b *Batcher) loop() {
	defer close(b.done)
	for {
		if b.countActive() == 0 {
			b.await()
		}
		b.mu.Lock()
		closed := b.closed
		jobs := b.jobs
		b.jobs = nil
		var admit []*Sequence
		if !closed {
			free := b.opt.MaxBatch - b.countActive()
			// Admit whole Submit groups while they fit (a group larger than
			// the batch is admitted alone, in pieces).
			for len(b.pending) > 0 && free > 0 {
				s := b.pending[0]
				if s.ctx.Err() != nil {
					s.fail(s.ctx.Err())
					b.pending = b.pending[1:]
					continue
				}
				admit = append(admit, s)
				b.pending = b.pending[1:]
				free--
			}
			b.expect = max(0, b.expect-len(admit))
		}
		pending := b.pending
		if closed {
			b.pending = nil
		}
		b.mu.Unlock()

		if closed {
			for _, s := range pending {
				s.fail(ErrClosed)
			}
			for _, s := range b.rows {
				if s != nil {
					s.fail(ErrClosed)
				}
			}
			for _, j := range jobs {
				j.err <- ErrClosed
			}
			b.release()
			return
		}
		for _, j := range jobs {
			if j.ctx.Err() != nil {
				j.err <- j.ctx.Err()
				continue
			}
			j.err <- safely(func() error { return j.fn(b.m) })
		}
		b.dropCancelled()
		if len(admit) > 0 {
			if err := safely(func() error { return b.join(admit) }); err != nil {
				b.failAll(err, admit)
			}
		}
		if b.countActive() > 0 {
			if err := safely(b.step); err != nil {
				b.failAll(err, nil)
			}
		}
	}
}

// Waits of an idle batcher for requests that are about to arrive, so that
// they share one prefill: a prompt prefilled alone costs about as much as
// one padded into a batch of several, and the running rows wait for it.
const (
	// defaultReturnWait: how long after a sequence ends its client's next
	// request is expected (a closed loop: agents, rollouts, load generators).
	defaultReturnWait = 5 * time.Millisecond
	// joinGap, joinMax: requests sent at one moment (n clients at once)
	// reach Submit within microseconds of each other; an idle batcher
	// woken by one waits until no other came for joinGap, at most joinMax.
	joinGap = time.Millisecond
	joinMax = 5 * time.Millisecond
	// idleRelease: the cache is kept this long without sequences, so that
	// the next requests of the same clients find it allocated.
	idleRelease = time.Second
)

// await runs when no sequence holds a row: it blocks until there is work
// (giving the cache back after idleRelease), then gathers the requests
// about to follow.
func (b *Batcher) await() {
	b.mu.Lock()
	idle := len(b.pending) == 0 && len(b.jobs) == 0 && !b.closed
	b.mu.Unlock()
	if idle {
		t := time.NewTimer(idleRelease)
		select {
		case <-b.wake:
		case <-t.C:
			b.release()
			<-b.wake
		}
		t.Stop()
	}
	b.gather()
}

// gather waits, before an idle batcher admits what is queued, for the
// requests expected next: while fewer sequences are queued than ended in
// the last returnWait (their clients sending the next request), until then;
// with none expected, while the queue keeps growing (joinGap, joinMax).
// It returns at once when the queue fills the batch, a job waits, or the
// batcher closes.
func (b *Batcher) gather() {
	start := time.Now()
	for {
		b.mu.Lock()
		n, last, stop := len(b.pending), b.submitted, len(b.jobs) > 0 || b.closed
		b.mu.Unlock()
		now := time.Now()
		if !now.Before(b.expectBy) {
			b.expect = 0
		}
		var until time.Time
		switch {
		case stop || n == 0 || n >= b.opt.MaxBatch:
			return
		case b.expect > 0:
			if n >= b.expect {
				return
			}
			until = b.expectBy
		default:
			until = last.Add(joinGap)
			if end := start.Add(joinMax); end.Before(until) {
				until = end
			}
		}
		if !now.Before(until) {
			return
		}
		t := time.NewTimer(until.Sub(now))
		select {
		case <-b.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// safely runs fn, turning a panic into an error: a bug met by one batch
// fails its sequences, not the process.
func safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode: %v", r)
		}
	}()
	return fn()
}

// countActive counts the sequences holding a row (loop goroutine only).
func (b *Batcher) countActive() int {
	n := 0
	for _, s := range b.rows {
		if s != nil {
			n++
		}
	}
	return n
}

// setActive publishes the count for Stats.
func (b *Batcher) setActive() {
	n := b.countActive()
	b.mu.Lock()
	b.active = n
	b.mu.Unlock()
}

// dropCancelled ends the sequences whose context is done.
func (b *Batcher) dropCancelled() {
	for i, s := range b.rows {
		if s != nil && s.ctx.Err() != nil {
			s.fail(s.ctx.Err())
			b.rows[i] = nil
		}
	}
	b.setActive()
}

// failAll ends every running sequence (and extra) with err and drops the cache.
func (b *Batcher) failAll(err error, extra []*Sequence) {
	for _, s := range append(slices.Clone(b.rows), extra...) {
		if s != nil {
			s.fail(err)
		}
	}
	b.release()
}

func (b *Batcher) release() {
	for _, c := range b.cache {
		c.FinalizeAll()
	}
	b.rows, b.cache, b.host, b.S = nil, nil, nil, 0
	b.setActive()
}

// batchBucket rounds a row count up to a power of two, at most MaxBatch.
func (b *Batcher) batchBucket(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return min(p, max(b.opt.MaxBatch, n))
}

// join prefills the admitted sequences (one forward per Submit group) and
// gives each a row; each samples its first token.
func (b *Batcher) join(admit []*Sequence) error {
	need := 0
	for _, s := range b.rows {
		if s != nil {
			need = max(need, s.n+1)
		}
	}
	for _, s := range admit {
		need = max(need, len(s.prompt)+1)
	}
	if err := b.layout(b.batchBucket(b.countActive()+len(admit)), bucket(need)); err != nil {
		return err
	}
	// Submit groups (one prompt each), batched while their padded tokens fit.
	var groups [][]*Sequence
	for len(admit) > 0 {
		k := 1
		for k < len(admit) && admit[k].group == admit[0].group {
			k++
		}
		groups = append(groups, admit[:k])
		admit = admit[k:]
	}
	for len(groups) > 0 {
		k, maxL := 0, 0
		for k < len(groups) {
			L := max(maxL, len(groups[k][0].prompt))
			if k > 0 && pow2(k+1)*bucket(L) > prefillTokens {
				break
			}
			k, maxL = k+1, L
		}
		if err := b.prefill(groups[:k]); err != nil {
			return err
		}
		groups = groups[k:]
	}
	return nil
}

// pow2 rounds n up to a power of two.
func pow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// layout re-lays the cache out as B rows of length S, keeping every running
// sequence (rows are compacted when B shrinks).
func (b *Batcher) layout(B, S int) error {
	if B == len(b.rows) && S == b.S {
		return nil
	}
	c := b.m.Config
	if b.cache == nil && b.host == nil && b.opt.HostStep && b.m.useHostDecode() {
		w, err := b.m.hostWeights()
		if err != nil {
			return err
		}
		b.host = b.host.relayout(c, w, B, S, nil)
		b.rows, b.S = make([]*Sequence, B), S
		return nil
	}
	if b.cache == nil && b.host == nil {
		for range c.NumHiddenLayers {
			b.cache = append(b.cache, tensors.FromShape(shapeF32(B, c.NumKeyValueHeads, c.HeadDim, S)),
				tensors.FromShape(shapeF32(B, c.NumKeyValueHeads, S, c.HeadDim)))
		}
		b.rows, b.S = make([]*Sequence, B), S
		return nil
	}
	idx := make([]int32, B) // new row i takes old row idx[i]
	rows := make([]*Sequence, B)
	if B >= len(b.rows) {
		for i := range b.rows {
			idx[i], rows[i] = int32(i), b.rows[i]
		}
	} else {
		j := 0
		for i, s := range b.rows {
			if s != nil {
				idx[j], rows[j] = int32(i), s
				j++
			}
		}
	}
	if b.host != nil {
		for i, s := range rows {
			if s == nil {
				idx[i] = -1 // nothing to keep
			}
		}
		b.host = b.host.relayout(c, b.host.w, B, S, idx)
		for i, s := range rows {
			if s != nil {
				s.row = i
			}
		}
		b.rows, b.S = rows, S
		return nil
	}
	out, err := b.m.runWith(fmt.Sprintf("batch-layout-%d", S), func(g *Graph, in []*Node) []*Node {
		return layoutGraph(S, in)
	}, nil, append([]any{tensors.FromFlatDataAndDimensions(idx, B)}, anys(b.cache)...)...)
	if err != nil {
		return err
	}
	for _, t := range b.cache {
		t.FinalizeAll()
	}
	for i, s := range rows {
		if s != nil {
			s.row = i
		}
	}
	b.cache, b.rows, b.S = out, rows, S
	return nil
}

// layoutGraph: idx [B'] then caches (K [B,Hkv,D,S], V [B,Hkv,S,D] per
// layer) → caches with rows idx and length S'.
func layoutGraph(S int, in []*Node) []*Node {
	idx := InsertAxes(in[0], -1)
	var out []*Node
	for i, c := range in[1:] {
		axis := 3 - i%2 // K keeps positions on axis 3, V on axis 2
		x := Gather(c, idx)
		dims := x.Shape().Dimensions
		switch old := dims[axis]; {
		case S < old:
			x = SliceAxis(x, axis, AxisRange(0, S))
		case S > old:
			zd := slices.Clone(dims)
			zd[axis] = S - old
			x = Concatenate([]*Node{x, Zeros(x.Graph(), shapes.Make(x.DType(), zd...))}, axis)
		}
		out = append(out, x)
	}
	return out
}

func anys(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// prefillTokens bounds the tokens of one batched prefill (k prompts padded
// to T): attention scores grow with k·T·S.
const prefillTokens = 4096

// prefill runs the prompts of several Submit groups as one batch, each
// right-padded to a common bucket, writes each group's cache into one free
// row per sequence and samples each first token.
func (b *Batcher) prefill(groups [][]*Sequence) error {
	maxL := 0
	for _, g := range groups {
		maxL = max(maxL, len(g[0].prompt))
	}
	T := bucket(maxL)
	K := 1 // prompt rows, a power of two (unused rows are padding)
	for K < len(groups) {
		K *= 2
	}
	S := b.S
	src := make([]int32, len(b.rows)) // batch row → prompt row
	sel := make([]int32, len(b.rows)) // 1: the row takes a prompt's cache
	free := 0
	for j, g := range groups {
		for _, s := range g {
			for free < len(b.rows) && b.rows[free] != nil {
				free++
			}
			if free == len(b.rows) {
				return fmt.Errorf("decode: no free row (internal error)")
			}
			b.rows[free], s.row, s.n = s, free, len(s.prompt)
			src[free], sel[free] = int32(j), 1
		}
	}
	if b.host != nil {
		return b.hostPrefill(groups)
	}
	ids := make([]int32, K*T)
	pos := make([][]int, K)
	mask := make([]float32, K*T*S)
	last := make([]int32, 2*K)
	for j := range K {
		pos[j] = make([]int, T)
		for t := range T {
			pos[j][t] = t
			for k := t + 1; k < S; k++ {
				mask[(j*T+t)*S+k] = maskOff
			}
		}
		last[2*j] = int32(j)
		if j < len(groups) {
			p := groups[j][0].prompt
			for t, id := range p {
				ids[j*T+t] = int32(id)
			}
			last[2*j+1] = int32(len(p) - 1)
		}
	}
	cos, sin := b.m.ropeInputs(pos)
	weights, err := b.m.decodeWeights()
	if err != nil {
		return err
	}
	e, err := b.m.Engine()
	if err != nil {
		return err
	}
	args := []any{tensors.FromFlatDataAndDimensions(ids, K, T), cos, sin,
		tensors.FromFlatDataAndDimensions(mask, K, T, S),
		tensors.FromFlatDataAndDimensions(last, K, 2),
		tensors.FromFlatDataAndDimensions(src, len(src)),
		tensors.FromFlatDataAndDimensions(sel, len(sel))}
	for _, c := range b.cache {
		buf, err := DonateTensorBuffer(c, e.backend, 0)
		if err != nil {
			return err
		}
		args = append(args, buf)
	}
	out, err := b.m.runWith("batch-join", b.m.joinGraph, weights, args...)
	if err != nil {
		b.cache = nil // donated
		return err
	}
	b.cache = out[1:]
	logits, err := tensors.CopyFlatData[float32](out[0])
	out[0].FinalizeAll()
	if err != nil {
		return err
	}
	b.joined(groups, logits)
	return nil
}

// hostPrefill runs the groups' prompts on the host step into the rows
// prefill gave their sequences: each prompt once, into its first
// sequence's row, copied to the group's other rows.
func (b *Batcher) hostPrefill(groups [][]*Sequence) error {
	w, err := b.m.hostWeights()
	if err != nil {
		return err
	}
	b.host.w = w
	prompts, rows := make([][]int, len(groups)), make([]int, len(groups))
	for j, g := range groups {
		prompts[j], rows[j] = g[0].prompt, g[0].row
	}
	logits := b.host.prefill(prompts, rows, prefillChunk)
	for _, g := range groups {
		for _, s := range g[1:] {
			b.host.copyRow(s.row, g[0].row, len(g[0].prompt))
		}
	}
	b.joined(groups, logits)
	return nil
}

// joined samples the first token of every sequence of the groups just
// prefilled from its prompt's logits ([len(groups)·V]).
func (b *Batcher) joined(groups [][]*Sequence, logits []float32) {
	V := b.m.Config.VocabSize
	n := 0
	var seqs []*Sequence
	var rows [][]float32
	for j, g := range groups {
		n += len(g[0].prompt)
		for _, s := range g {
			seqs, rows = append(seqs, s), append(rows, logits[j*V:(j+1)*V])
		}
	}
	b.sampleAll(seqs, rows)
	b.mu.Lock()
	b.stats.Prompts += uint64(n)
	b.mu.Unlock()
	b.setActive()
}

// sampleAll draws each sequence's next token from its row of logits and
// frees the rows of those that end. Rows are sampled in parallel when the
// vocabulary makes it worth it (a 151,936-way log-softmax per row); each
// sequence has its own random stream, so the result does not depend on it.
func (b *Batcher) sampleAll(seqs []*Sequence, rows [][]float32) {
	type draw struct {
		tok int
		lp  float32
		top []TokenLogprob
	}
	draws := make([]draw, len(seqs))
	one := func(i int) {
		tok, lp, top := seqs[i].smp.sample(rows[i])
		draws[i] = draw{tok, lp, top}
	}
	if len(seqs) > 1 && b.m.Config.VocabSize >= 1<<15 {
		var wg sync.WaitGroup
		for i := range seqs {
			wg.Go(func() { one(i) })
		}
		wg.Wait()
	} else {
		for i := range seqs {
			one(i)
		}
	}
	b.mu.Lock()
	b.stats.Tokens += uint64(len(seqs))
	b.mu.Unlock()
	for i, s := range seqs {
		if s.push(b.m, draws[i].tok, draws[i].lp, draws[i].top) {
			b.rows[s.row] = nil
			b.expect++
			b.expectBy = time.Now().Add(b.opt.returnWait)
		}
	}
}

// joinGraph: decode-layout weights, ids [K,T], cos, sin [K,T,D], mask
// [K,T,S], last [K,2] (each prompt's last real position), src [B] (the
// prompt row each batch row takes), sel [B] (1 = the row takes it),
// caches... → logits [K,V] of each prompt's last token, and the caches with
// the selected rows replaced by their prompt's keys and values.
func (m *Model) joinGraph(g *Graph, in []*Node) []*Node {
	P := len(m.Names)
	net := bind(m.Config, m.Names, in[:P])
	net.inOut, net.LMHead = true, in[P]
	in = in[P+1:]
	ids, cos, sin, mask, last, src, sel := in[0], in[1], in[2], in[3], in[4], in[5], in[6]
	caches := in[7:]
	c := m.Config
	Hkv, D, H := c.NumKeyValueHeads, c.HeadDim, c.HiddenSize
	K, S := ids.Shape().Dimensions[0], mask.Shape().Dimensions[2]
	// The prefill writes from slot 0, so only the cache's shape matters.
	var fresh []kvCache
	for range c.NumHiddenLayers {
		fresh = append(fresh, kvCache{K: Zeros(g, shapeF32(K, Hkv, D, S)), V: Zeros(g, shapeF32(K, Hkv, S, D))})
	}
	h, fresh := net.forward(ids, cos, sin, mask, fresh, Const(g, int32(0)))
	hl := Gather(h, last) // [K,H]
	logits := Reshape(net.logits(Reshape(hl, K, 1, H)), K, c.VocabSize)
	B := sel.Shape().Dimensions[0]
	take := Reshape(NotEqual(sel, ZerosLike(sel)), B, 1, 1, 1)
	idx := InsertAxes(src, -1)
	outs := []*Node{logits}
	for l, f := range fresh {
		for j, nw := range []*Node{f.K, f.V} {
			old := caches[2*l+j]
			dims := old.Shape().Dimensions
			outs = append(outs, Where(BroadcastToDims(take, dims...), Gather(nw, idx), old))
		}
	}
	return outs
}

// step advances every running sequence by one token.
func (b *Batcher) step() error {
	need := 0
	for _, s := range b.rows {
		if s != nil {
			need = max(need, s.n+1)
		}
	}
	if err := b.layout(b.batchBucket(b.countActive()), bucket(need)); err != nil {
		return err
	}
	B, S := len(b.rows), b.S
	ids := make([]int32, B)
	pos := make([][]int, B)
	start := make([]int32, B)
	mask := make([]float32, B*S)
	n := 0
	for r, s := range b.rows {
		slot := 0
		if s != nil {
			ids[r], slot = int32(s.last), s.n
			n++
		}
		pos[r], start[r] = []int{slot}, int32(slot)
		for k := slot + 1; k < S; k++ {
			mask[r*S+k] = maskOff
		}
	}
	t0 := time.Now()
	if b.host != nil {
		// Parameters updated between steps (training alongside) are repacked.
		w, err := b.m.hostWeights()
		if err != nil {
			return err
		}
		b.host.w = w
		slots, lo := make([]int, B), make([]int, B)
		for r := range slots {
			slots[r] = int(start[r])
		}
		return b.advance(b.host.run(ids, slots, lo, slots), n, t0)
	}
	cos, sin := b.m.ropeInputs(pos)
	weights, err := b.m.decodeWeights()
	if err != nil {
		return err
	}
	e, err := b.m.Engine()
	if err != nil {
		return err
	}
	args := []any{tensors.FromFlatDataAndDimensions(ids, B, 1), cos, sin,
		tensors.FromFlatDataAndDimensions(mask, B, 1, S), tensors.FromFlatDataAndDimensions(start, B)}
	for _, c := range b.cache {
		buf, err := DonateTensorBuffer(c, e.backend, 0)
		if err != nil {
			return err
		}
		args = append(args, buf)
	}
	// decodeGraph with one write slot per row (see writeCache).
	out, err := b.m.runWith("batch-decode", b.m.decodeGraph, weights, args...)
	if err != nil {
		b.cache = nil // donated
		return err
	}
	b.cache = out[1:]
	flat, err := tensors.CopyFlatData[float32](out[0])
	out[0].FinalizeAll()
	if err != nil {
		return err
	}
	return b.advance(flat, n, t0)
}

// advance samples the next token of every running sequence from the
// step's logits [B·V] (n sequences, the step started at t0).
func (b *Batcher) advance(flat []float32, n int, t0 time.Time) error {
	V := b.m.Config.VocabSize
	var seqs []*Sequence
	var rows [][]float32
	for r, s := range b.rows {
		if s != nil {
			s.n++
			seqs, rows = append(seqs, s), append(rows, flat[r*V:(r+1)*V])
		}
	}
	b.sampleAll(seqs, rows)
	b.mu.Lock()
	b.stats.Steps++
	b.mu.Unlock()
	b.setActive()
	if b.opt.OnStep != nil {
		b.opt.OnStep(n, time.Since(t0))
	}
	return nil
}
