package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestHostDecodeMatchesGraph decodes a left-padded batch with the host step
// and with the graph step (STAR_HOST_DECODE=0): same tokens, log-probs
// within 1e-4. The model has attention biases (random, not HF's zeros), GQA
// and an untied head, which the fixture models do not all cover.
func TestHostDecodeMatchesGraph(t *testing.T) {
	for _, tie := range []bool{false, true} {
		cfg := NewConfig(300, 64, 2, 4, 2, 16, 96, tie)
		cfg.AttentionBias = true
		m, err := NewRandom(cfg, 7)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		for _, n := range m.Names {
			if !strings.HasSuffix(n, ".bias") && !strings.HasSuffix(n, "norm.weight") {
				continue
			}
			dims := m.Params[n].Shape().Dimensions
			v := make([]float32, dims[0])
			for i := range v {
				v[i] = float32(rng.NormFloat64() * 0.5)
				if strings.HasSuffix(n, "norm.weight") {
					v[i] += 1
				}
			}
			m.Params[n] = tensors.FromFlatDataAndDimensions(v, dims...)
		}
		if !m.useHostDecode() {
			t.Skip("the host step needs the Go backend")
		}
		prompts := [][]int{{5, 17, 42, 7, 99}, {3}, {250, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}}
		opt := GenerateOptions{MaxNewTokens: 20, EOS: []int{}, TopLogprobs: 2}
		host, err := m.Generate(context.Background(), prompts, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(HostDecodeEnv, "0")
		graph, err := m.Generate(context.Background(), prompts, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(HostDecodeEnv, "1")
		for i := range prompts {
			if !slices.Equal(host[i].Tokens, graph[i].Tokens) {
				t.Errorf("tie=%v prompt %d: host %v, graph %v", tie, i, host[i].Tokens, graph[i].Tokens)
				continue
			}
			for j := range host[i].Logprobs {
				if d := math.Abs(float64(host[i].Logprobs[j] - graph[i].Logprobs[j])); d > 1e-4 {
					t.Errorf("tie=%v prompt %d step %d: host logprob %v, graph %v", tie, i, j, host[i].Logprobs[j], graph[i].Logprobs[j])
				}
			}
		}
	}
}

// TestGreedyLogprob: greedy sampling's shortcut (argmax and a vectorised
// log Σ exp) gives logSoftmax's token and log-prob.
func TestGreedyLogprob(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	for _, V := range []int{1, 7, 513, 8192, 151936} {
		logits := make([]float32, V)
		for i := range logits {
			logits[i] = float32(rng.NormFloat64() * 4)
		}
		tok, lp, _ := newSampler(GenerateOptions{}, 0).sample(logits)
		ref := logSoftmax(logits)
		best := 0
		for i := range ref {
			if ref[i] > ref[best] {
				best = i
			}
		}
		if tok != best || math.Abs(float64(lp)-ref[best]) > 1e-6 {
			t.Errorf("V=%d: token %d log-prob %v, want %d %v", V, tok, lp, best, ref[best])
		}
	}
}

// TestBatcherHostStep: a Batcher with HostStep decodes the reference
// prompts to the fixture's greedy continuations with Generate's log-probs,
// and sequences that join a running batch (growing it and its cache) and
// leave it decode what they decode alone.
func TestBatcherHostStep(t *testing.T) {
	ref := reference(t)
	ctx := context.Background()
	for _, v := range variants {
		m := fixtureModel(t, v)
		if !m.useHostDecode() {
			t.Skip("the host step needs the Go backend")
		}
		b := m.NewBatcher(BatcherOptions{MaxBatch: 4, HostStep: true})
		var prompts [][]int
		for _, s := range ref[v].Sequences {
			prompts = append(prompts, s.IDs)
		}
		opt := GenerateOptions{MaxNewTokens: 16, EOS: []int{}, TopLogprobs: 3}
		want, err := m.Generate(ctx, prompts, opt)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []*Sequence
		for i, p := range prompts {
			if i > 0 { // join a running batch
				waitTokens(t, seqs[0], 2*i)
			}
			s, err := b.Submit(ctx, p, 1, opt)
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, s[0])
		}
		// One that leaves early, and a long one that outgrows the cache bucket.
		short, err := b.Submit(ctx, []int{9}, 1, GenerateOptions{MaxNewTokens: 3, EOS: []int{}})
		if err != nil {
			t.Fatal(err)
		}
		long, err := b.Submit(ctx, prompts[0], 1, GenerateOptions{MaxNewTokens: 70, EOS: []int{}})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range ref[v].Sequences {
			g := wait(t, seqs[i])
			if !slices.Equal(g.Tokens, s.Greedy16) || !slices.Equal(g.Tokens, want[i].Tokens) {
				t.Errorf("%s prompt %d: got %v want %v", v, i, g.Tokens, s.Greedy16)
			}
			for j := range g.Logprobs {
				if d := math.Abs(float64(g.Logprobs[j] - want[i].Logprobs[j])); d > 1e-4 {
					t.Errorf("%s prompt %d step %d: logprob %v, Generate %v", v, i, j, g.Logprobs[j], want[i].Logprobs[j])
				}
			}
		}
		gs, gl := wait(t, short[0]), wait(t, long[0])
		b.Close()
		alone, err := m.Generate(ctx, [][]int{{9}, prompts[0]}, GenerateOptions{MaxNewTokens: 70, EOS: []int{}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gs.Tokens, alone[0].Tokens[:3]) || !slices.Equal(gl.Tokens, alone[1].Tokens) {
			t.Errorf("%s: short %v long %v, alone %v %v", v, gs.Tokens, gl.Tokens, alone[0].Tokens[:3], alone[1].Tokens)
		}
	}
}

// TestHostPrefillMatchesReference prefills the reference sequences (1, 7
// and 33 tokens) together on the host, in chunks that split prompts or
// not: each prompt's next-token logits must match the fixture's float64
// logits, and its cache row must be the one the next step reads.
func TestHostPrefillMatchesReference(t *testing.T) {
	ref := reference(t)
	for _, v := range variants {
		m := fixtureModel(t, v)
		w, err := m.hostWeights()
		if err != nil {
			t.Fatal(err)
		}
		seqs := ref[v].Sequences
		for _, chunk := range []int{1, 5, prefillChunk} {
			s := newHostStep(m.Config, w, 4, 64)
			var prompts [][]int
			rows := []int{3, 0, 2} // any rows, not in order
			for _, q := range seqs {
				prompts = append(prompts, q.IDs[:len(q.IDs)-1])
			}
			prompts[0] = seqs[0].IDs // one token: nothing to decode after it
			logits := s.prefill(prompts, rows, chunk)
			V := m.Config.VocabSize
			for j, q := range seqs {
				r := len(prompts[j]) - 1
				if e := rowErr(logits[j*V:(j+1)*V], q.Logits[r]); e > 1e-4 {
					t.Errorf("%s chunk %d prompt %d: prefill logits error %.3g", v, chunk, j, e)
				}
			}
			// One step feeds each prompt's last reference token after its prefill.
			ids, pos, lo, slot := make([]int32, 4), make([]int, 4), make([]int, 4), make([]int, 4)
			for j, q := range seqs[1:] {
				b := rows[j+1]
				ids[b], pos[b], slot[b] = int32(q.IDs[len(q.IDs)-1]), len(q.IDs)-1, len(q.IDs)-1
			}
			step := s.run(ids, pos, lo, slot)
			for j, q := range seqs[1:] {
				b := rows[j+1]
				if e := rowErr(step[b*V:(b+1)*V], q.Logits[len(q.IDs)-1]); e > 1e-4 {
					t.Errorf("%s chunk %d prompt %d: step after prefill, logits error %.3g", v, chunk, j+1, e)
				}
			}
		}
	}
}

// TestBatcherJoinTogether: prompts queued together (lengths 1, 7, 33,
// 300 — more than a host prefill chunk — and a sampled group of two) join
// the batch in one prefill, with the graph step and with the host step; each
// gives exactly what it gives alone, the fixture's greedy continuations and
// Generate's samples.
func TestBatcherJoinTogether(t *testing.T) {
	for _, host := range []bool{false, true} {
		t.Run(fmt.Sprintf("host=%v", host), func(t *testing.T) { testBatcherJoinTogether(t, host) })
	}
}

func testBatcherJoinTogether(t *testing.T, host bool) {
	ref := reference(t)
	m := fixtureModel(t, "tied-f32")
	if host && !m.useHostDecode() {
		t.Skip("the host step needs the Go backend")
	}
	ctx := context.Background()
	b := m.NewBatcher(BatcherOptions{MaxBatch: 8, HostStep: host})
	defer b.Close()
	long := make([]int, 300)
	for i := range long {
		long[i] = (i*37 + 11) % m.Config.VocabSize
	}
	var prompts [][]int
	for _, s := range ref["tied-f32"].Sequences {
		prompts = append(prompts, s.IDs)
	}
	prompts = append(prompts, long)
	greedy := GenerateOptions{MaxNewTokens: 16, EOS: []int{}}
	var alone [][]int
	for _, p := range prompts {
		s, err := b.Submit(ctx, p, 1, greedy)
		if err != nil {
			t.Fatal(err)
		}
		alone = append(alone, wait(t, s[0]).Tokens)
	}
	steps := b.Stats().Steps
	// Hold the decoding goroutine so that everything is queued at once.
	hold, held := make(chan struct{}), make(chan struct{})
	go b.Do(ctx, func(*Model) error { close(held); <-hold; return nil })
	<-held
	var seqs []*Sequence
	for _, p := range prompts {
		q, err := b.Submit(ctx, p, 1, greedy)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, q[0])
	}
	p := []int{5, 17, 42}
	opt := GenerateOptions{MaxNewTokens: 16, Temperature: 1, Seed: 3, EOS: []int{}}
	sampled, err := b.Submit(ctx, p, 2, opt)
	if err != nil {
		t.Fatal(err)
	}
	close(hold)
	for i, s := range seqs {
		g := wait(t, s)
		if !slices.Equal(g.Tokens, alone[i]) {
			t.Errorf("prompt %d joined with others: got %v, alone %v", i, g.Tokens, alone[i])
		}
		if i < len(ref["tied-f32"].Sequences) && !slices.Equal(g.Tokens, ref["tied-f32"].Sequences[i].Greedy16) {
			t.Errorf("prompt %d: got %v, fixture %v", i, g.Tokens, ref["tied-f32"].Sequences[i].Greedy16)
		}
	}
	want, err := m.Generate(ctx, [][]int{p, p}, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sampled {
		if g := wait(t, s); !slices.Equal(g.Tokens, want[i].Tokens) {
			t.Errorf("sampled choice %d: got %v, Generate %v", i, g.Tokens, want[i].Tokens)
		}
	}
	if n := b.Stats().Steps - steps; n != 15 {
		t.Errorf("%d decode steps for 16 tokens each: the prompts were not prefilled together", n)
	}
}

// TestBatcherReturningClients: when the sequences of a batch end, an idle
// batcher waits for their clients' next requests (up to returnWait), so
// that requests that come back one by one share one prefill and run in
// step, as they did before.
func TestBatcherReturningClients(t *testing.T) {
	m := fixtureModel(t, "tied-f32")
	if !m.useHostDecode() {
		t.Skip("the host step needs the Go backend")
	}
	ctx := context.Background()
	b := m.NewBatcher(BatcherOptions{MaxBatch: 4, HostStep: true, returnWait: time.Minute})
	defer b.Close()
	prompts := [][]int{{5, 17, 42}, {9}, {312, 7, 7, 1, 2}, {400, 401}}
	opt := GenerateOptions{MaxNewTokens: 12, EOS: []int{}}
	round := func(delay time.Duration) [][]int {
		var seqs []*Sequence
		for _, p := range prompts {
			q, err := b.Submit(ctx, p, 1, opt)
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, q[0])
			time.Sleep(delay)
		}
		var out [][]int
		for _, s := range seqs {
			out = append(out, wait(t, s).Tokens)
		}
		return out
	}
	// The first round starts together (held), the next ones come back
	// 20 ms apart: far more than the joinGap of a cold start.
	hold, held := make(chan struct{}), make(chan struct{})
	go b.Do(ctx, func(*Model) error { close(held); <-hold; return nil })
	<-held
	var first [][]int
	done := make(chan struct{})
	go func() { first = round(0); close(done) }()
	for b.Stats().Queued < len(prompts) {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	<-done
	for r := range 2 {
		steps := b.Stats().Steps
		got := round(20 * time.Millisecond)
		if n := b.Stats().Steps - steps; n != 11 {
			t.Errorf("round %d: %d decode steps for 12 tokens each: the returning requests did not join together", r, n)
		}
		for i := range got {
			if !slices.Equal(got[i], first[i]) {
				t.Errorf("round %d prompt %d: got %v, first round %v", r, i, got[i], first[i])
			}
		}
	}
}
