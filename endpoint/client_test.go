package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// script serves the given handlers in turn, one per request (the last one
// repeats), and records request bodies.
type script struct {
	mu       sync.Mutex
	steps    []http.HandlerFunc
	n        int
	bodies   []string
	arrivals []time.Time
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	h := s.steps[min(s.n, len(s.steps)-1)]
	s.n++
	s.bodies = append(s.bodies, string(b))
	s.arrivals = append(s.arrivals, time.Now())
	s.mu.Unlock()
	h(w, r)
}

func status(code int, body string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

const okBody = `{"id":"cmpl-1","object":"text_completion","model":"m","choices":[{"index":0,"text":"hi","finish_reason":"stop","logprobs":null}]}`

func newClient(url string) *Client {
	return &Client{BaseURL: url + "/v1/", Model: "m", Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

func TestRetryOn5xxThenSuccess(t *testing.T) {
	s := &script{steps: []http.HandlerFunc{
		status(500, `{"error":{"message":"boom","type":"server_error"}}`),
		status(503, `overloaded`),
		status(200, okBody),
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newClient(srv.URL)
	out, err := c.Completions(context.Background(), &CompletionRequest{Prompt: "x", MaxTokens: Ptr(0)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Choices[0].Text != "hi" || out.Choices[0].Finish() != "stop" || s.n != 3 {
		t.Fatalf("got %+v after %d requests", out, s.n)
	}
	// Model defaulted, max_tokens 0 sent, all attempts sent the same body.
	for _, b := range s.bodies {
		if b != `{"model":"m","prompt":"x","max_tokens":0}` {
			t.Fatalf("body %s", b)
		}
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	s := &script{steps: []http.HandlerFunc{status(502, `{"error":{"message":"bad gateway"}}`)}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newClient(srv.URL)
	c.MaxAttempts = 4
	err := c.Post(context.Background(), "/v1/completions", map[string]int{"a": 1}, nil)
	var ae *AttemptsError
	var api *APIError
	if !errors.As(err, &ae) || ae.Attempts != 4 || !errors.As(err, &api) || api.Status != 502 || api.Message != "bad gateway" {
		t.Fatalf("err = %v", err)
	}
	if s.n != 4 {
		t.Fatalf("%d requests, want 4", s.n)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s := &script{steps: []http.HandlerFunc{
		status(429, `{"error":{"message":"queue full","type":"rate_limit"}}`, "Retry-After", "0.3"),
		status(200, okBody),
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newClient(srv.URL)
	if _, err := c.Completions(context.Background(), &CompletionRequest{Prompt: "x"}); err != nil {
		t.Fatal(err)
	}
	if gap := s.arrivals[1].Sub(s.arrivals[0]); gap < 300*time.Millisecond {
		t.Fatalf("retried after %v, Retry-After said 300ms", gap)
	}
}

func TestNot400Retried(t *testing.T) {
	s := &script{steps: []http.HandlerFunc{
		status(400, `{"error":{"message":"max_tokens is too large","type":"invalid_request_error","param":"max_tokens","code":null}}`),
		status(200, okBody),
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	_, err := newClient(srv.URL).Completions(context.Background(), &CompletionRequest{Prompt: "x"})
	var api *APIError
	if !errors.As(err, &api) || api.Status != 400 || api.Type != "invalid_request_error" ||
		!strings.Contains(err.Error(), "max_tokens is too large") {
		t.Fatalf("err = %v", err)
	}
	if s.n != 1 {
		t.Fatalf("%d requests, want 1", s.n)
	}
}

func TestTimeoutRetried(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := &script{steps: []http.HandlerFunc{
		func(w http.ResponseWriter, r *http.Request) {
			select { // hang until the client gives up
			case <-r.Context().Done():
			case <-release:
			}
		},
		status(200, okBody),
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newClient(srv.URL)
	c.Timeout = 100 * time.Millisecond
	out, err := c.Completions(context.Background(), &CompletionRequest{Prompt: "x"})
	if err != nil || out.Choices[0].Text != "hi" || s.n != 2 {
		t.Fatalf("out %+v, err %v, %d requests", out, err, s.n)
	}
}

func TestConnectionErrorRetriedThenReported(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	c := newClient(url)
	err := c.Post(context.Background(), "/v1/completions", struct{}{}, nil)
	var ae *AttemptsError
	if !errors.As(err, &ae) || ae.Attempts != 3 {
		t.Fatalf("err = %v", err)
	}
}

func TestCancelStopsRetries(t *testing.T) {
	s := &script{steps: []http.HandlerFunc{status(503, "", "Retry-After", "60")}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := newClient(srv.URL).Post(ctx, "/v1/completions", struct{}{}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestConcurrencyBound(t *testing.T) {
	var cur, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
		io.WriteString(w, okBody)
	}))
	defer srv.Close()
	c := newClient(srv.URL)
	c.Concurrency = 3
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Completions(context.Background(), &CompletionRequest{Prompt: "x"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p != 3 {
		t.Fatalf("peak concurrency %d, want 3", p)
	}
}

func TestAPIKeyAndPaths(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk-test" {
			status(401, `{"error":{"message":"bad key"}}`)(w, r)
			return
		}
		switch r.URL.Path {
		case "/v1/models":
			io.WriteString(w, `{"object":"list","data":[{"id":"qwen","object":"model","max_model_len":4096}]}`)
		case "/v1/chat/completions":
			io.WriteString(w, `{"id":"c","object":"chat.completion","model":"qwen","choices":[{"index":0,"finish_reason":"tool_calls",
				"message":{"role":"assistant","content":null,"reasoning_content":"think",
				"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\": 1}"}}]}}],
				"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, APIKey: "sk-test"}
	ids, err := c.Models(context.Background())
	if err != nil || len(ids) != 1 || ids[0] != "qwen" {
		t.Fatalf("models %v %v", ids, err)
	}
	r, err := c.ChatCompletions(context.Background(), &ChatRequest{Model: "qwen", Messages: []ChatMessage{{Role: "user", Content: Ptr("hi")}}})
	if err != nil {
		t.Fatal(err)
	}
	m := r.Choices[0].Message
	if m.Content != nil || *m.ReasoningContent != "think" || m.ToolCalls[0].Function.Arguments != `{"a": 1}` || r.Usage.TotalTokens != 12 {
		t.Fatalf("%+v", r)
	}
	bad := &Client{BaseURL: srv.URL, APIKey: "wrong"}
	if _, err := bad.Models(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong key: %v", err)
	}
}

// TestVLLMWire decodes a completions response as vLLM writes it with echo,
// logprobs, prompt_logprobs and return_tokens_as_token_ids.
func TestVLLMWire(t *testing.T) {
	const body = `{"id":"cmpl-x","object":"text_completion","created":1,"model":"Qwen/Qwen3-8B",
	"choices":[{"index":0,"text":"Hello world","logprobs":{"text_offset":[0,5],"token_logprobs":[null,-0.5],
	"tokens":["token_id:9707","token_id:1879"],"top_logprobs":[null,{"token_id:1879":-0.5,"token_id:11":-1.25}]},
	"finish_reason":"length","stop_reason":null,
	"prompt_logprobs":[null,{"1879":{"logprob":-0.5,"rank":1,"decoded_token":" world"},"11":{"logprob":-1.25,"rank":2,"decoded_token":","}}]}],
	"usage":{"prompt_tokens":2,"total_tokens":3,"completion_tokens":1}}`
	var r CompletionResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	ch := r.Choices[0]
	if ch.Logprobs.TokenLogprobs[0] != nil || *ch.Logprobs.TokenLogprobs[1] != -0.5 || ch.Logprobs.TopLogprobs[0] != nil {
		t.Fatalf("logprobs %+v", ch.Logprobs)
	}
	if ch.PromptLogprobs[0] != nil || ch.PromptLogprobs[1]["11"].Logprob != -1.25 || *ch.PromptLogprobs[1]["1879"].Rank != 1 {
		t.Fatalf("prompt_logprobs %+v", ch.PromptLogprobs)
	}
	for s, want := range map[string]int{"token_id:1879": 1879, "11": 11} {
		if id, err := TokenID(s); err != nil || id != want {
			t.Fatalf("TokenID(%q) = %d, %v", s, id, err)
		}
	}
	if _, err := TokenID("hello"); err == nil {
		t.Fatal("TokenID(hello) succeeded")
	}
	// A request encodes vLLM's fields by their wire names.
	req, _ := json.Marshal(&CompletionRequest{Model: "m", Prompt: []int{1, 2}, MaxTokens: Ptr(1), Echo: true,
		PromptLogprobs: Ptr(100), ReturnTokensAsTokenIDs: true, TopK: Ptr(-1), Temperature: Ptr(0.0)})
	want := `{"model":"m","prompt":[1,2],"temperature":0,"top_k":-1,"max_tokens":1,"echo":true,"prompt_logprobs":100,"return_tokens_as_token_ids":true}`
	if string(req) != want {
		t.Fatalf("request\n%s\nwant\n%s", req, want)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              0,
		"2":                             2 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"-1":                            0,
		"Thu, 01 Jan 2026 00:00:07 GMT": 7 * time.Second,
		"soon":                          0,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}
