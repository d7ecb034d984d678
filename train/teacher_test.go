package train

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
)

// fakeVLLM answers /v1/completions as vLLM does for prompt_logprobs: one
// entry per prompt token (the first null), each mapping "<id>" to
// {logprob, rank, decoded_token} for the top k and the prompt's own token.
// Its first request fails with a 500 and its second hangs past the client's
// timeout: both must be retried.
func fakeVLLM(t *testing.T, m *model.Model) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.URL.Path != "/v1/completions" {
			http.NotFound(w, r)
			return
		}
		switch n {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error": {"message": "engine busy", "type": "InternalServerError"}}`)
			return
		case 2:
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
			}
			return
		}
		var req struct {
			Model          string `json:"model"`
			Prompt         []int  `json:"prompt"`
			MaxTokens      int    `json:"max_tokens"`
			PromptLogprobs int    `json:"prompt_logprobs"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MaxTokens != 1 || req.PromptLogprobs < 1 || req.Model != "teacher-8b" {
			http.Error(w, `{"error": {"message": "bad request"}}`, http.StatusBadRequest)
			return
		}
		vals, ids, err := m.TopKLogprobs([][]int{req.Prompt}, m.Config.VocabSize)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		pl := []any{nil}
		for pos := 1; pos < len(req.Prompt); pos++ {
			entry := map[string]any{}
			for rank, id := range ids[0][pos-1] {
				if rank < req.PromptLogprobs || id == req.Prompt[pos] {
					entry[strconv.Itoa(id)] = map[string]any{"logprob": vals[0][pos-1][rank], "rank": rank + 1, "decoded_token": "x"}
				}
			}
			pl = append(pl, entry)
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "cmpl-1", "object": "text_completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "text": "a", "finish_reason": "length", "logprobs": nil, "prompt_logprobs": pl}}})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestTeacherTopKEndpoint: the store from a fake vLLM (after a 500 and a
// timeout, retried) equals the one the same teacher writes in-process.
func TestTeacherTopKEndpoint(t *testing.T) {
	_, data := fixtureCKD(t)
	teacher, err := model.Load(fixture.Path(t, "fixtures/tiny-qwen3/untied-bf16"))
	if err != nil {
		t.Fatal(err)
	}
	srv, calls := fakeVLLM(t, teacher)
	dir := t.TempDir()
	job := TopKJob{Data: data, Teacher: "teacher-8b", VocabSize: 1000, K: 20, MaxLen: 2048, Concurrency: 1}
	job.Out = filepath.Join(dir, "endpoint.bin")
	sc := &EndpointScorer{Model: "teacher-8b", Client: &endpoint.Client{BaseURL: srv.URL, Timeout: 500 * time.Millisecond,
		Backoff: 5 * time.Millisecond, MaxAttempts: 4, Concurrency: 1}}
	if err := WriteTopK(context.Background(), job, sc, io.Discard); err != nil {
		t.Fatal(err)
	}
	// A 500, a timeout, then one per record (more if a loaded machine
	// made a normal answer time out too).
	if n := calls.Load(); n < 4 {
		t.Errorf("%d requests, want at least 4", n)
	}
	job.Out = filepath.Join(dir, "local.bin")
	if err := WriteTopK(context.Background(), job, &ModelScorer{M: teacher}, io.Discard); err != nil {
		t.Fatal(err)
	}
	a, err := OpenStore(filepath.Join(dir, "endpoint.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenStore(filepath.Join(dir, "local.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Len() != 2 || b.Len() != 2 {
		t.Fatalf("records %d, %d", a.Len(), b.Len())
	}
	for _, key := range b.keys {
		ra, _ := a.Get(key)
		rb, _ := b.Get(key)
		if ra == nil || ra.First != rb.First || !slices.Equal(ra.IDs, rb.IDs) || !slices.Equal(ra.Vals, rb.Vals) {
			t.Errorf("record %d differs between the endpoint and the local teacher", key)
		}
	}
	if a.Header.Teacher != "teacher-8b" || a.Header.K != 20 {
		t.Errorf("header %+v", a.Header)
	}
}

// TestTeacherTopKResumes: an interrupted scoring run keeps what it scored
// in STORE.partial, and a rerun finishes it without rescoring those.
func TestTeacherTopKResumes(t *testing.T) {
	mdir := tinyDir(t, 64, 5)
	data := writeIDs(t, 20, 64, 5)
	m, err := model.Load(mdir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "topk.bin")
	job := TopKJob{Data: data, Out: out, Teacher: mdir, VocabSize: 64, K: 8, MaxLen: 64, Concurrency: 1}
	ctx, cancel := context.WithCancel(context.Background())
	sc := &countingScorer{inner: &ModelScorer{M: m}, after: 7, cancel: cancel}
	if err := WriteTopK(ctx, job, sc, io.Discard); err == nil {
		t.Fatal("interrupted run succeeded")
	}
	if fileExists(out) || !fileExists(out+".partial") {
		t.Fatal("an interrupted run must leave only STORE.partial")
	}
	sc2 := &countingScorer{inner: &ModelScorer{M: m}}
	if err := WriteTopK(context.Background(), job, sc2, io.Discard); err != nil {
		t.Fatal(err)
	}
	s, err := OpenStore(out)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != 20 || sc2.n.Load() > 20-6 {
		t.Errorf("%d records; the rerun scored %d (the first run kept at least 6)", s.Len(), sc2.n.Load())
	}
}

type countingScorer struct {
	inner  Scorer
	n      atomic.Int32
	after  int32
	cancel context.CancelFunc
}

func (c *countingScorer) Score(ctx context.Context, seq []int, first, k int) ([]int32, []float32, error) {
	if n := c.n.Add(1); c.after > 0 && n > c.after {
		c.cancel()
		return nil, nil, ctx.Err()
	}
	return c.inner.Score(ctx, seq, first, k)
}
