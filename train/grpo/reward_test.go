package grpo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/reward"
)

type vector struct {
	Prompt, Label, Generation string
	Reward                    float64
	AnswerScore               float64 `json:"answer_score"`
	FormatScore               float64 `json:"format_score"`
}

// fixtureQueries are the reference reward vectors (STAR's simrl.py) as
// queries, with the expected scores.
func fixtureQueries(t *testing.T) ([]Query, []Score) {
	f, err := os.Open(fixture.Path(t, "fixtures/simrl/reward_vectors.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var qs []Query
	var want []Score
	for sc.Scan() {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, Query{Query: v.Prompt + v.Generation, Prompt: v.Prompt, Label: v.Label})
		want = append(want, Score{Reward: v.Reward, Filter: v.AnswerScore, Answer: v.AnswerScore, Format: v.FormatScore})
	}
	return qs, want
}

func checkScores(t *testing.T, got, want []Score) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d scores, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestBuiltinReward: the in-process reward gives the reference vectors.
func TestBuiltinReward(t *testing.T) {
	qs, want := fixtureQueries(t)
	got, err := Builtin{}.Score(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	checkScores(t, got, want)
}

func fastRemote(url string) *Remote {
	return &Remote{URL: url, BatchSize: 100, Backoff: time.Millisecond, Timeout: 10 * time.Second}
}

// TestRemoteReward: the client against `star reward serve`'s handler on
// loopback, in several batches, gives the reference vectors.
func TestRemoteReward(t *testing.T) {
	srv := httptest.NewServer((&reward.Service{}).Handler())
	defer srv.Close()
	qs, want := fixtureQueries(t)
	got, err := fastRemote(srv.URL+"/reward").Score(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	checkScores(t, got, want)
}

// TestRemoteRetries: a 503 and a dropped connection are retried; a 400 is not.
func TestRemoteRetries(t *testing.T) {
	h := (&reward.Service{}).Handler()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case 2:
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
		default:
			h.ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	qs, want := fixtureQueries(t)
	got, err := fastRemote(srv.URL).Score(context.Background(), qs[:10])
	if err != nil {
		t.Fatal(err)
	}
	checkScores(t, got, want[:10])
	if n := calls.Load(); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}

	calls.Store(0)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, `{"error": "no"}`, http.StatusBadRequest)
	}))
	defer bad.Close()
	if _, err := fastRemote(bad.URL).Score(context.Background(), qs[:3]); err == nil || !strings.Contains(err.Error(), "400 Bad Request") {
		t.Errorf("error %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("a 400 was tried %d times", calls.Load())
	}
}

// TestRemoteWrongLength: an answer whose lists do not match the request is
// a clear error, never retried into success.
func TestRemoteWrongLength(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"rewards": [1, 0]}`, "2 rewards for 3 queries"},
		{`{"rewards": [1, 0, 1], "scores": [1]}`, "1 scores for 3 queries"},
		{`{"rewards": [1, 0, 1], "extra_logs": {"format_rewards": [1, 1]}}`, "2 extra_logs.format_rewards"},
		{`{"reward": [1, 0, 1]}`, "0 rewards for 3 queries"},
		{`not json`, "decode response"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, c.body)
		}))
		qs := make([]Query, 3)
		_, err := fastRemote(srv.URL).Score(context.Background(), qs)
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.body, err, c.want)
		}
	}
}

// TestRemoteGivesUp: a server that always fails ends in an error after the
// configured retries.
func TestRemoteGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	r := fastRemote(srv.URL)
	r.Retries = 2
	if _, err := r.Score(context.Background(), make([]Query, 2)); err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("error %v", err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d calls", calls.Load())
	}
}

func TestRemoteBadURL(t *testing.T) {
	for _, u := range []string{"ftp://host/reward", "localhost:8000", "http://"} {
		if _, err := (&Remote{URL: u}).Score(context.Background(), make([]Query, 1)); err == nil || !strings.Contains(err.Error(), "want http(s)://") {
			t.Errorf("%s: error %v", u, err)
		}
	}
}
