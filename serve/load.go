package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// LoadOptions configure Load, a load generator for any OpenAI-compatible
// /v1/completions endpoint.
type LoadOptions struct {
	URL          string // base URL, e.g. http://127.0.0.1:8080 (without /v1)
	Model        string
	APIKey       string
	Clients      int // concurrent clients, each with one request in flight
	Requests     int // requests in all
	PromptTokens int // random token-id prompts of this length
	MaxTokens    int // completion length (ignore_eos: exactly this many)
	Vocab        int // prompt ids are drawn from [0, Vocab)
	Seed         uint64
}

// LoadResult summarises one Load run.
type LoadResult struct {
	Clients, Requests int
	Elapsed           time.Duration
	OutputTokens      int
	P50, P99          time.Duration // request latency
}

// RequestsPerSecond and TokensPerSecond are the throughput.
func (r LoadResult) RequestsPerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// TokensPerSecond is output tokens per second.
func (r LoadResult) TokensPerSecond() float64 { return float64(r.OutputTokens) / r.Elapsed.Seconds() }

// Load sends opt.Requests completion requests from opt.Clients concurrent
// clients and measures throughput and latency. Any failed request fails the run.
func Load(ctx context.Context, opt LoadOptions) (LoadResult, error) {
	rng := rand.New(rand.NewPCG(opt.Seed, 7))
	bodies := make([][]byte, opt.Requests)
	for i := range bodies {
		ids := make([]int, opt.PromptTokens)
		for j := range ids {
			ids[j] = rng.IntN(opt.Vocab)
		}
		bodies[i], _ = json.Marshal(map[string]any{"model": opt.Model, "prompt": ids, "max_tokens": opt.MaxTokens,
			"temperature": 0, "ignore_eos": true})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: opt.Clients}}
	next := make(chan int, len(bodies))
	for i := range bodies {
		next <- i
	}
	close(next)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	var lat []time.Duration
	tokens := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range opt.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				n, err := postCompletion(ctx, client, opt, bodies[i])
				if err != nil {
					cancel(err)
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				tokens += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return LoadResult{}, err
	}
	res := LoadResult{Clients: opt.Clients, Requests: len(lat), Elapsed: time.Since(start), OutputTokens: tokens}
	slices.Sort(lat)
	res.P50 = lat[len(lat)/2]
	res.P99 = lat[min(len(lat)-1, (len(lat)*99)/100)]
	return res, nil
}

func postCompletion(ctx context.Context, client *http.Client, opt LoadOptions, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, opt.URL+"/v1/completions", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if opt.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+opt.APIKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("load: status %d: %s", resp.StatusCode, b)
	}
	var r struct {
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	return r.Usage.CompletionTokens, nil
}
