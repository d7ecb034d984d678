package model

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

// waitTokens blocks until s has at least n tokens or has ended.
func waitTokens(t *testing.T, s *Sequence, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		g, err := s.Read(0)
		if len(g.Tokens) >= n || g.FinishReason != "" || err != nil {
			return
		}
		select {
		case <-s.Changed():
		case <-deadline:
			t.Fatalf("timed out waiting for %d tokens", n)
		}
	}
}

func wait(t *testing.T, s *Sequence) Generation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g, err := s.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestBatcherMatchesReference decodes each reference prompt alone in a
// Batcher: greedy tokens must be the fixture's greedy16 continuations and
// Generate's, with Generate's log-probs.
func TestBatcherMatchesReference(t *testing.T) {
	ref := reference(t)
	for _, v := range variants {
		m := fixtureModel(t, v)
		b := m.NewBatcher(BatcherOptions{MaxBatch: 4})
		var prompts [][]int
		for _, s := range ref[v].Sequences {
			prompts = append(prompts, s.IDs)
		}
		opt := GenerateOptions{MaxNewTokens: 16, EOS: []int{}, TopLogprobs: 3}
		want, err := m.Generate(context.Background(), prompts, opt)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range ref[v].Sequences {
			seqs, err := b.Submit(context.Background(), s.IDs, 1, opt)
			if err != nil {
				t.Fatal(err)
			}
			g := wait(t, seqs[0])
			if !slices.Equal(g.Tokens, s.Greedy16) || !slices.Equal(g.Tokens, want[i].Tokens) {
				t.Errorf("%s prompt %d: got %v want %v", v, i, g.Tokens, s.Greedy16)
			}
			if g.FinishReason != "length" || len(g.Top) != 16 || g.Top[0][0].ID != g.Tokens[0] {
				t.Errorf("%s prompt %d: finish %q, %d top entries", v, i, g.FinishReason, len(g.Top))
			}
			for j := range g.Logprobs {
				if d := math.Abs(float64(g.Logprobs[j] - want[i].Logprobs[j])); d > 1e-4 {
					t.Errorf("%s prompt %d step %d: logprob %v, Generate %v", v, i, j, g.Logprobs[j], want[i].Logprobs[j])
				}
			}
		}
		b.Close()
	}
}

// TestBatcherJoinLeave decodes a long greedy sequence alone, then again
// while others join at different steps, leave early (length, EOS,
// cancellation) and force the batch to grow, compact and the cache to be
// re-laid out: its tokens must not change, nor must the others' from
// their own solo runs.
func TestBatcherJoinLeave(t *testing.T) {
	m := fixtureModel(t, "tied-f32")
	ctx := context.Background()
	var mu sync.Mutex
	sizes := map[int]bool{}
	b := m.NewBatcher(BatcherOptions{MaxBatch: 4, OnStep: func(n int, _ time.Duration) {
		mu.Lock()
		sizes[n] = true
		mu.Unlock()
	}})
	defer b.Close()
	main := []int{5, 17, 42, 7, 99, 3, 250}
	others := []struct {
		prompt []int
		max    int
		at     int // join after main has this many tokens
	}{
		{[]int{9}, 5, 2},
		{[]int{312}, 30, 3},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 8, 3},
		{[]int{77, 78}, 3, 10},
		{[]int{400, 401, 402}, 12, 20},
	}
	solo := func(p []int, n int) []int {
		s, err := b.Submit(ctx, p, 1, GenerateOptions{MaxNewTokens: n, EOS: []int{}})
		if err != nil {
			t.Fatal(err)
		}
		return wait(t, s[0]).Tokens
	}
	wantMain := solo(main, 40)
	var wantOthers [][]int
	for _, o := range others {
		wantOthers = append(wantOthers, solo(o.prompt, o.max))
	}

	ms, err := b.Submit(ctx, main, 1, GenerateOptions{MaxNewTokens: 40, EOS: []int{}})
	if err != nil {
		t.Fatal(err)
	}
	// A sequence that is cancelled while running.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs, err := b.Submit(cctx, []int{11, 12}, 1, GenerateOptions{MaxNewTokens: 100, EOS: []int{}})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []*Sequence
	for _, o := range others {
		waitTokens(t, ms[0], o.at)
		s, err := b.Submit(ctx, o.prompt, 1, GenerateOptions{MaxNewTokens: o.max, EOS: []int{}})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, s[0])
		if o.at == 10 {
			cancel()
		}
	}
	if g := wait(t, ms[0]); !slices.Equal(g.Tokens, wantMain) {
		t.Errorf("main in a changing batch:\n got %v\nwant %v", g.Tokens, wantMain)
	}
	for i, s := range seqs {
		if g := wait(t, s); !slices.Equal(g.Tokens, wantOthers[i]) {
			t.Errorf("other %d: got %v want %v", i, g.Tokens, wantOthers[i])
		}
	}
	if _, err := cs[0].Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled sequence: err %v", err)
	}
	if g, _ := cs[0].Read(0); len(g.Tokens) >= 100 {
		t.Errorf("cancelled sequence ran to the end")
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.Stats().Active != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := b.Stats(); st.Active != 0 || st.Queued != 0 || st.Steps == 0 {
		t.Errorf("stats after all ended: %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if !sizes[1] || !sizes[3] || !sizes[4] {
		t.Errorf("batch sizes seen %v: the test did not exercise joining and leaving", sizes)
	}
}

// TestBatcherSampling: n choices of one prompt sample from streams (seed, i),
// as Generate's rows do, and stop at EOS or a stop string.
func TestBatcherSampling(t *testing.T) {
	m := fixtureModel(t, "tied-f32")
	ctx := context.Background()
	b := m.NewBatcher(BatcherOptions{MaxBatch: 8})
	defer b.Close()
	p := []int{5, 17, 42}
	opt := GenerateOptions{MaxNewTokens: 12, Temperature: 1.5, TopK: 50, TopP: 0.95, Seed: 7, EOS: []int{}}
	want, err := m.Generate(ctx, [][]int{p, p, p}, opt)
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := b.Submit(ctx, p, 3, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		if g := wait(t, s); !slices.Equal(g.Tokens, want[i].Tokens) {
			t.Errorf("choice %d: got %v, Generate %v", i, g.Tokens, want[i].Tokens)
		}
	}
	if slices.Equal(want[0].Tokens, want[1].Tokens) {
		t.Errorf("choices 0 and 1 sampled the same tokens")
	}
	// EOS: [312] greedily gives 86 86 86 692 ...
	s, _ := b.Submit(ctx, []int{312}, 1, GenerateOptions{MaxNewTokens: 10, EOS: []int{692}})
	if g := wait(t, s[0]); !slices.Equal(g.Tokens, []int{86, 86, 86, 692}) || g.FinishReason != "eos" {
		t.Errorf("eos: %v %q", g.Tokens, g.FinishReason)
	}
	decode := func(ids []int) string {
		out := ""
		for _, id := range ids {
			out += map[bool]string{true: "x", false: "y"}[id == 86]
		}
		return out
	}
	s, _ = b.Submit(ctx, []int{312}, 1, GenerateOptions{MaxNewTokens: 10, StopStrings: []string{"xxx"}, Decode: decode})
	if g := wait(t, s[0]); len(g.Tokens) != 3 || g.FinishReason != "stop" {
		t.Errorf("stop string: %v %q", g.Tokens, g.FinishReason)
	}
}

func TestBatcherLimits(t *testing.T) {
	m := fixtureModel(t, "tied-f32")
	ctx := context.Background()
	b := m.NewBatcher(BatcherOptions{MaxBatch: 1, MaxQueue: 2, MaxLen: 20})
	if _, err := b.Submit(ctx, []int{1, 2}, 3, GenerateOptions{}); !errors.Is(err, ErrQueueFull) {
		t.Errorf("n over the queue: %v", err)
	}
	if _, err := b.Submit(ctx, make([]int, 20), 1, GenerateOptions{}); err == nil {
		t.Errorf("prompt at MaxLen accepted")
	}
	if _, err := b.Submit(ctx, []int{m.Config.VocabSize}, 1, GenerateOptions{}); err == nil {
		t.Errorf("token outside the vocabulary accepted")
	}
	s, err := b.Submit(ctx, make([]int, 15), 1, GenerateOptions{MaxNewTokens: 100, EOS: []int{}})
	if err != nil {
		t.Fatal(err)
	}
	if g := wait(t, s[0]); len(g.Tokens) != 5 || g.FinishReason != "length" {
		t.Errorf("max tokens capped by MaxLen: %d tokens, %q", len(g.Tokens), g.FinishReason)
	}
	var got int
	if err := b.Do(ctx, func(m *Model) error { got = m.Config.VocabSize; return nil }); err != nil || got == 0 {
		t.Errorf("Do: %v", err)
	}
	if err := b.Do(ctx, func(m *Model) error { panic("bug") }); err == nil {
		t.Errorf("a panic in Do was not an error")
	}
	if s, err := b.Submit(ctx, []int{1}, 1, GenerateOptions{MaxNewTokens: 2}); err != nil || len(wait(t, s[0]).Tokens) != 2 {
		t.Errorf("the batcher does not run after a panic: %v", err)
	}
	b.Close()
	if _, err := b.Submit(ctx, []int{1}, 1, GenerateOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("submit after close: %v", err)
	}
}

// TestPromptLogprobs: the scored log-probs are TokenLogprobs', the top-k
// are TopKLogprobs', and the rank agrees with the top list.
func TestPromptLogprobs(t *testing.T) {
	m := fixtureModel(t, "tied-f32")
	seq := []int{5, 17, 42, 7, 99, 3, 250}
	got, err := m.PromptLogprobs(seq, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer func(c int) { scoreChunk = c }(scoreChunk)
	scoreChunk = 4 // several chunks, the last one partial
	chunked, err := m.PromptLogprobs(seq, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunked) != len(got) {
		t.Fatalf("chunked: %d entries, %d", len(chunked), len(got))
	}
	for i := range got {
		if d := math.Abs(float64(chunked[i].Logprob - got[i].Logprob)); d > 1e-4 || chunked[i].Rank != got[i].Rank || chunked[i].Top[0].ID != got[i].Top[0].ID {
			t.Errorf("position %d: chunked %+v, whole %+v", i, chunked[i], got[i])
		}
	}
	lps, err := m.TokenLogprobs([][]int{seq})
	if err != nil {
		t.Fatal(err)
	}
	vals, ids, err := m.TopKLogprobs([][]int{seq}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(seq)-1 {
		t.Fatalf("%d entries for %d tokens", len(got), len(seq))
	}
	for i, p := range got {
		if d := math.Abs(float64(p.Logprob - lps[0][i])); d > 1e-4 {
			t.Errorf("position %d: logprob %v, TokenLogprobs %v", i, p.Logprob, lps[0][i])
		}
		for j, c := range p.Top {
			if c.ID != ids[0][i][j] || math.Abs(float64(c.Logprob-vals[0][i][j])) > 1e-5 {
				t.Errorf("position %d top %d: %+v, TopKLogprobs %d %v", i, j, c, ids[0][i][j], vals[0][i][j])
			}
			if c.ID == seq[i+1] && p.Rank != j+1 {
				t.Errorf("position %d: rank %d but top entry %d", i, p.Rank, j+1)
			}
		}
		if p.Rank < 1 || (p.Rank <= 4 && p.Top[p.Rank-1].ID != seq[i+1]) {
			t.Errorf("position %d: rank %d does not match the top list %v", i, p.Rank, p.Top)
		}
	}
}
