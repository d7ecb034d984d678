// Package endpoint is the project's client for OpenAI-compatible servers
// (star serve, vLLM, SGLang, llama.cpp, OpenAI): typed requests for
// /v1/completions and /v1/chat/completions with vLLM's extensions, retries
// with exponential backoff, and a bound on concurrent requests.
//
// A request is retried on connection errors, timeouts, 408, 429 (after the
// server's Retry-After when it sends one) and 5xx, never on another 4xx:
// those are the caller's mistake and come back as an *APIError carrying the
// server's OpenAI error message.
package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for the zero values of Client's fields.
const (
	DefaultMaxAttempts = 3
	DefaultBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	// maxResponse bounds a response body (prompt log-probs of a long
	// sequence at k = 100 run to tens of MB).
	maxResponse = 512 << 20
)

// Client talks to one server. Its fields are read on first use; set them
// before the first call. A Client is safe for concurrent use.
type Client struct {
	// BaseURL is the server, with or without the trailing /v1
	// (http://127.0.0.1:8080 and http://127.0.0.1:8080/v1 are the same).
	BaseURL string
	APIKey  string // sent as a bearer token when set
	Model   string // the default "model" of requests that leave it empty
	// MaxAttempts is the most tries per request (0: DefaultMaxAttempts).
	MaxAttempts int
	// Timeout bounds one attempt (0: none beyond the context's).
	Timeout time.Duration
	// Concurrency bounds the requests in flight across all calls of this
	// Client (0: unbounded).
	Concurrency int
	// Backoff is the first retry delay, doubled each attempt up to
	// MaxBackoff, with jitter (0: the defaults).
	Backoff, MaxBackoff time.Duration
	// HTTP is the transport (nil: a client with keep-alive sized to
	// Concurrency).
	HTTP *http.Client

	once sync.Once
	sem  chan struct{}
	hc   *http.Client
	base string
}

func (c *Client) init() {
	c.once.Do(func() {
		if c.Concurrency > 0 {
			c.sem = make(chan struct{}, c.Concurrency)
		}
		c.hc = c.HTTP
		if c.hc == nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.MaxIdleConnsPerHost = max(c.Concurrency, 16)
			c.hc = &http.Client{Transport: t}
		}
		c.base = strings.TrimSuffix(strings.TrimRight(c.BaseURL, "/"), "/v1")
	})
}

// APIError is a response with an error status.
type APIError struct {
	Method, Path string
	Status       int    // HTTP status code
	Message      string // the server's error.message, or the body's start
	Type         string
	Code         any // OpenAI's code: a string, a number or null
	RetryAfter   time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Message)
}

// Retryable reports whether the server may succeed if asked again.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500
}

// AttemptsError is a request that failed every attempt; Err is the last failure.
type AttemptsError struct {
	Attempts int
	Err      error
}

func (e *AttemptsError) Error() string {
	return fmt.Sprintf("after %d attempts: %v", e.Attempts, e.Err)
}
func (e *AttemptsError) Unwrap() error { return e.Err }

// Post sends body (JSON-encoded unless it is a []byte or json.RawMessage)
// to path (e.g. "/v1/completions") and decodes the response into out (nil:
// discard it), retrying as the package documentation says.
func (c *Client) Post(ctx context.Context, path string, body, out any) error {
	c.init()
	var data []byte
	switch b := body.(type) {
	case []byte:
		data = b
	case json.RawMessage:
		data = b
	default:
		var err error
		if data, err = json.Marshal(body); err != nil {
			return fmt.Errorf("endpoint: POST %s: encode request: %w", path, err)
		}
	}
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	var last error
	for a := 1; ; a++ {
		retry, err := c.attempt(ctx, path, data, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retry {
			return err
		}
		last = err
		if a >= attempts {
			return &AttemptsError{Attempts: a, Err: last}
		}
		wait := c.backoff(a)
		var ae *APIError
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			wait = ae.RetryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff is the delay before retry a (1-based): Backoff·2^(a−1), capped,
// with the upper half jittered so clients that failed together spread out.
func (c *Client) backoff(a int) time.Duration {
	base, maxB := c.Backoff, c.MaxBackoff
	if base <= 0 {
		base = DefaultBackoff
	}
	if maxB <= 0 {
		maxB = DefaultMaxBackoff
	}
	d := base << min(a-1, 20)
	if d > maxB || d <= 0 {
		d = maxB
	}
	return d/2 + rand.N(d/2+1)
}

// attempt makes one try; retry says whether a failure may be retried.
func (c *Client) attempt(ctx context.Context, path string, data []byte, out any) (retry bool, err error) {
	if c.sem != nil {
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		defer func() { <-c.sem }()
	}
	actx := ctx
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.base+path, bytes.NewReader(data))
	if err != nil {
		return false, fmt.Errorf("endpoint: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// Connection refused or reset, a timeout: worth another try unless
		// the caller gave up.
		return ctx.Err() == nil, fmt.Errorf("endpoint: POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("endpoint: POST %s: read response: %w", path, err)
	}
	if len(raw) > maxResponse {
		return false, fmt.Errorf("endpoint: POST %s: response over %d MiB", path, maxResponse>>20)
	}
	if resp.StatusCode/100 != 2 {
		e := apiError(path, resp, raw)
		return e.Retryable(), e
	}
	if out == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return false, fmt.Errorf("endpoint: POST %s: decode response: %w (body starts %q)", path, err, clip(raw))
	}
	return false, nil
}

func apiError(path string, resp *http.Response, raw []byte) *APIError {
	e := &APIError{Method: http.MethodPost, Path: path, Status: resp.StatusCode}
	var body struct {
		Error *struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    any    `json:"code"`
		} `json:"error"`
		// Some servers (older vLLM, FastAPI) put the message at the top.
		Message string `json:"message"`
		Detail  any    `json:"detail"`
	}
	switch {
	case json.Unmarshal(raw, &body) != nil:
		e.Message = clip(raw)
	case body.Error != nil:
		e.Message, e.Type, e.Code = body.Error.Message, body.Error.Type, body.Error.Code
	case body.Message != "":
		e.Message = body.Message
	case body.Detail != nil:
		d, _ := json.Marshal(body.Detail)
		e.Message = string(d)
	default:
		e.Message = clip(raw)
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(strings.TrimSpace(h), 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func clip(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Completions posts to /v1/completions; an empty req.Model is c.Model.
func (c *Client) Completions(ctx context.Context, req *CompletionRequest) (*CompletionResponse, error) {
	r := *req
	if r.Model == "" {
		r.Model = c.Model
	}
	var out CompletionResponse
	if err := c.Post(ctx, "/v1/completions", &r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ChatCompletions posts to /v1/chat/completions; an empty req.Model is c.Model.
func (c *Client) ChatCompletions(ctx context.Context, req *ChatRequest) (*ChatResponse, error) {
	r := *req
	if r.Model == "" {
		r.Model = c.Model
	}
	var out ChatResponse
	if err := c.Post(ctx, "/v1/chat/completions", &r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Models lists the server's models (GET /v1/models), without retries.
func (c *Client) Models(ctx context.Context) ([]string, error) {
	c.init()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/models", nil)
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("endpoint: GET /v1/models: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("endpoint: GET /v1/models: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		e := apiError("/v1/models", resp, raw)
		e.Method = http.MethodGet
		return nil, e
	}
	var list ModelList
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("endpoint: GET /v1/models: decode: %w", err)
	}
	ids := make([]string, len(list.Data))
	for i, m := range list.Data {
		ids[i] = m.ID
	}
	return ids, nil
}
