// Package serve is an OpenAI-compatible HTTP server over the engine:
// /v1/chat/completions (tools rendered with the model's chat template,
// completions parsed into reasoning, content and tool calls), /v1/completions
// (text or token-id prompts, echo, logprobs, vLLM's prompt_logprobs),
// /v1/models, /health and Prometheus /metrics. Requests share one
// continuous-batching decoder (model.Batcher).
package serve

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/model"
	"github.com/star-go/star/tokenizer"
)

// Config configures a Server. Zero values take the defaults shown.
type Config struct {
	Name        string // served model name (default: the model directory's base name)
	MaxBatch    int    // sequences decoded together (16)
	MaxQueue    int    // sequences waiting for a batch row; more get 429 (256)
	MaxModelLen int    // prompt + completion tokens (the model's max_position_embeddings)
	APIKey      string // if set, requests need "Authorization: Bearer KEY" (401 otherwise)
	MaxLogprobs int    // top_logprobs / logprobs / prompt_logprobs limit (20)
	MaxN        int    // choices per request (16)
	// MaxBodyBytes limits a request body (8 MiB); larger ones get 413.
	MaxBodyBytes int64
	// Timeout limits one request, generation included (10 minutes).
	Timeout time.Duration
	// ShutdownGrace is how long Serve lets in-flight requests finish after
	// its context ends before cancelling them (30s).
	ShutdownGrace time.Duration
	Log           *log.Logger // request log (nil: none)

	// stepDelay slows every decode step (tests that need a sequence to
	// stay running while they act).
	stepDelay time.Duration
}

// Server serves one model.
type Server struct {
	cfg      Config
	m        *model.Model
	b        *model.Batcher
	tok      *tokenizer.Tokenizer
	tmpl     *chat.Template
	metrics  *metrics
	created  int64
	defaults defaults
	eos      []int
}

// Open loads the model, tokenizer and chat template of dir and starts the decoder.
func Open(dir string, cfg Config) (*Server, error) {
	m, err := model.Load(dir)
	if err != nil {
		return nil, err
	}
	return OpenModel(m, dir, cfg)
}

// OpenModel serves m (loaded from dir, maybe on another backend) with the
// tokenizer and chat template of dir.
func OpenModel(m *model.Model, dir string, cfg Config) (*Server, error) {
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, err
	}
	tmpl, err := chat.Load(dir)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = filepath.Base(filepath.Clean(dir))
	}
	return New(m, tok, tmpl, cfg)
}

// New serves m with its tokenizer and chat template.
func New(m *model.Model, tok *tokenizer.Tokenizer, tmpl *chat.Template, cfg Config) (*Server, error) {
	if cfg.Name == "" {
		cfg.Name = "model"
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 16
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 256
	}
	if cfg.MaxModelLen <= 0 || cfg.MaxModelLen > m.Config.MaxPositionEmbeddings {
		if cfg.MaxModelLen > m.Config.MaxPositionEmbeddings {
			return nil, fmt.Errorf("serve: --max-model-len %d is over the model's max_position_embeddings %d", cfg.MaxModelLen, m.Config.MaxPositionEmbeddings)
		}
		cfg.MaxModelLen = m.Config.MaxPositionEmbeddings
	}
	if cfg.MaxLogprobs <= 0 {
		cfg.MaxLogprobs = 20
	}
	if cfg.MaxN <= 0 {
		cfg.MaxN = 16
	}
	cfg.MaxN = min(cfg.MaxN, cfg.MaxQueue) // a larger n could never be queued
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 30 * time.Second
	}
	s := &Server{cfg: cfg, m: m, tok: tok, tmpl: tmpl, metrics: newMetrics(), created: time.Now().Unix(), defaults: samplingDefaults(m)}
	// Generation stops at the model's EOS ids and the tokenizer's eos_token,
	// as vLLM stops.
	s.eos = slices.Clone(m.EOSIDs())
	if id, ok := tok.EOS(); ok && !slices.Contains(s.eos, id) {
		s.eos = append(s.eos, id)
	}
	if s.eos == nil {
		s.eos = []int{}
	}
	onStep := s.metrics.step
	if d := cfg.stepDelay; d > 0 {
		onStep = func(n int, took time.Duration) { s.metrics.step(n, took); time.Sleep(d) }
	}
	// HostStep: decode steps as plain Go on the host (model/hostdecode.go),
	// several times faster than a graph per step on the Go backend.
	s.b = m.NewBatcher(model.BatcherOptions{MaxBatch: cfg.MaxBatch, MaxQueue: cfg.MaxQueue, MaxLen: cfg.MaxModelLen,
		OnStep: onStep, HostStep: true})
	return s, nil
}

// Name is the served model name.
func (s *Server) Name() string { return s.cfg.Name }

// MaxModelLen is the context: prompt + completion tokens.
func (s *Server) MaxModelLen() int { return s.cfg.MaxModelLen }

// Close stops the decoder; running requests end with an error.
func (s *Server) Close() { s.b.Close() }

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/models", s.get(s.models))
	mux.HandleFunc("/v1/models/{id}", s.get(s.modelInfo))
	mux.HandleFunc("/health", s.get(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	mux.HandleFunc("/metrics", s.get(s.metricsPage))
	mux.HandleFunc("/v1/chat/completions", s.post("chat", s.chat))
	mux.HandleFunc("/v1/completions", s.post("completions", s.completions))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path),
			Type: "invalid_request_error", Code: "not_found"})
	})
	return s.auth(mux)
}

// Serve serves on ln until ctx ends, then stops accepting, lets running
// requests finish for ShutdownGrace, and cancels the rest.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	grace, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	err := hs.Shutdown(grace)
	s.Close() // ends what is still running: handlers see an error and return
	if errors.Is(err, context.DeadlineExceeded) {
		// Give the handlers a moment to send their error and [DONE].
		last, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if hs.Shutdown(last) != nil {
			hs.Close()
		}
		err = nil
	}
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

func (s *Server) auth(next http.Handler) http.Handler {
	if s.cfg.APIKey == "" {
		return next
	}
	want := []byte("Bearer " + s.cfg.APIKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			s.metrics.request("auth", http.StatusUnauthorized, 0)
			w.Header().Set("WWW-Authenticate", `Bearer realm="star"`)
			writeError(w, &apiError{Status: http.StatusUnauthorized, Message: "missing or wrong API key (Authorization: Bearer KEY)",
				Type: "invalid_request_error", Code: "invalid_api_key"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) get(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Message: r.Method + " is not allowed here (GET)",
				Type: "invalid_request_error", Code: "method_not_allowed"})
			return
		}
		h(w, r)
	}
}

// post wraps an endpoint: method, body limit, timeout, errors, metrics and
// the request log. An endpoint returns an error before it writes anything.
func (s *Server) post(name string, h func(ctx context.Context, w http.ResponseWriter, body []byte) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status := http.StatusOK
		defer func() {
			if p := recover(); p != nil {
				// A bug must not take the server down; say so plainly.
				status = http.StatusInternalServerError
				writeError(w, &apiError{Status: status, Message: fmt.Sprintf("internal error: %v", p), Type: "internal_error", Code: "internal_error"})
			}
			s.metrics.request(name, status, time.Since(start))
			if s.cfg.Log != nil {
				s.cfg.Log.Printf("%s %s %d %.3fs", r.Method, r.URL.Path, status, time.Since(start).Seconds())
			}
		}()
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			status = http.StatusMethodNotAllowed
			writeError(w, &apiError{Status: status, Message: r.Method + " is not allowed here (POST)", Type: "invalid_request_error", Code: "method_not_allowed"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				status = http.StatusRequestEntityTooLarge
				writeError(w, &apiError{Status: status, Message: fmt.Sprintf("the body is over %d bytes", s.cfg.MaxBodyBytes),
					Type: "invalid_request_error", Code: "request_too_large"})
				return
			}
			status = http.StatusBadRequest
			writeError(w, badRequest("", "invalid_body", "reading the body: %v", err))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
		defer cancel()
		if err := h(ctx, w, body); err != nil {
			ae := s.asAPIError(ctx, err)
			status = ae.Status
			if ae.Status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			writeError(w, ae)
		}
	}
}

// asAPIError maps an endpoint error to a response.
func (s *Server) asAPIError(ctx context.Context, err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, model.ErrQueueFull):
		return &apiError{Status: http.StatusTooManyRequests, Message: "the server is busy (queue full); retry later",
			Type: "rate_limit_error", Code: "queue_full"}
	case errors.Is(err, model.ErrClosed):
		return &apiError{Status: http.StatusServiceUnavailable, Message: "the server is shutting down", Type: "server_error", Code: "shutting_down"}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &apiError{Status: http.StatusGatewayTimeout, Message: fmt.Sprintf("the request ran past the %s limit", s.cfg.Timeout),
			Type: "timeout_error", Code: "timeout"}
	case ctx.Err() != nil:
		// The client went away; nobody reads this.
		return &apiError{Status: 499, Message: "client closed the request", Type: "invalid_request_error", Code: "cancelled"}
	}
	return &apiError{Status: http.StatusInternalServerError, Message: err.Error(), Type: "internal_error", Code: "internal_error"}
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{s.modelCard()}})
}

func (s *Server) modelInfo(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != s.cfg.Name {
		writeError(w, &apiError{Status: http.StatusNotFound, Message: fmt.Sprintf("model %q does not exist (serving %q)", r.PathValue("id"), s.cfg.Name),
			Type: "invalid_request_error", Param: "model", Code: "model_not_found"})
		return
	}
	writeJSON(w, http.StatusOK, s.modelCard())
}

func (s *Server) modelCard() map[string]any {
	return map[string]any{"id": s.cfg.Name, "object": "model", "created": s.created, "owned_by": "star",
		"max_model_len": s.cfg.MaxModelLen}
}

func (s *Server) checkModel(name string) error {
	if name != s.cfg.Name {
		return badRequest("model", "model_not_found", "model %q does not exist (serving %q)", name, s.cfg.Name)
	}
	return nil
}

func (s *Server) limits() limits {
	return limits{MaxN: s.cfg.MaxN, MaxLogprobs: s.cfg.MaxLogprobs, VocabSize: s.m.Config.VocabSize, Defaults: s.defaults}
}

// samplingDefaults reads temperature, top_p and top_k from the model's
// generation_config.json (vLLM's --generation-config auto).
func samplingDefaults(m *model.Model) defaults {
	d := defaults{Temperature: 1, TopP: 1, TopK: -1}
	if m.Gen == nil || m.Gen.Raw == nil {
		return d
	}
	var g struct {
		Temperature *float64 `json:"temperature"`
		TopP        *float64 `json:"top_p"`
		TopK        *int64   `json:"top_k"`
	}
	if json.Unmarshal(m.Gen.Raw, &g) != nil {
		return d
	}
	if g.Temperature != nil && *g.Temperature >= 0 {
		d.Temperature = *g.Temperature
	}
	if g.TopP != nil && *g.TopP > 0 && *g.TopP <= 1 {
		d.TopP = *g.TopP
	}
	if g.TopK != nil && *g.TopK >= -1 {
		d.TopK = *g.TopK
	}
	return d
}

// generate submits n sequences of prompt with the request's sampling.
func (s *Server) generate(ctx context.Context, prompt []int, sp sampling, topLogprobs int) ([]*model.Sequence, error) {
	if len(prompt) >= s.cfg.MaxModelLen {
		return nil, badRequest("messages", "context_length_exceeded",
			"the prompt has %d tokens; this model's context is %d tokens including the completion", len(prompt), s.cfg.MaxModelLen)
	}
	for _, id := range prompt { // a tokenizer may know more ids than the model
		if id >= s.m.Config.VocabSize {
			return nil, badRequest("messages", "invalid_value", "the prompt has token %d, outside the model's vocabulary of %d", id, s.m.Config.VocabSize)
		}
	}
	maxNew := s.cfg.MaxModelLen - len(prompt)
	if sp.MaxTokens > 0 {
		maxNew = min(maxNew, sp.MaxTokens)
	}
	opt := model.GenerateOptions{MaxNewTokens: maxNew, Temperature: sp.Temperature, TopK: sp.TopK, Seed: sp.Seed,
		TopLogprobs: topLogprobs}
	if sp.TopP < 1 {
		opt.TopP = sp.TopP
	}
	if sp.IgnoreEOS {
		opt.EOS = []int{}
	} else {
		opt.EOS = s.eos
	}
	if len(sp.Stop) > 0 {
		opt.StopStrings, opt.Decode = sp.Stop, s.tok.DecodeSkipSpecial
	}
	return s.b.Submit(ctx, prompt, sp.N, opt)
}

// waitAll waits for every sequence.
func waitAll(ctx context.Context, seqs []*model.Sequence) ([]model.Generation, error) {
	out := make([]model.Generation, len(seqs))
	for i, sq := range seqs {
		g, err := sq.Wait(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = g
	}
	return out, nil
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]any{"error": map[string]any{"message": "encoding the response: " + err.Error(),
			"type": "internal_error", "param": nil, "code": "internal_error"}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *apiError) {
	var param, code any
	if e.Param != "" {
		param = e.Param
	}
	if e.Code != "" {
		code = e.Code
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]any{"message": e.Message, "type": e.Type, "param": param, "code": code}})
}

// tokenText is how a token is shown in logprobs: its text, or
// "token_id:<id>" with vLLM's return_tokens_as_token_ids.
func (s *Server) tokenText(id int, asID bool) string {
	if asID {
		return fmt.Sprintf("token_id:%d", id)
	}
	return s.tok.Decode([]int{id})
}

func tokenBytes(t string) []int {
	out := make([]int, len(t))
	for i := range len(t) {
		out[i] = int(t[i])
	}
	return out
}

// finiteLogprob keeps JSON encodable numbers (no -Inf or NaN).
func finiteLogprob(x float32) float32 {
	if x != x || x < -9999 {
		return -9999
	}
	return x
}
