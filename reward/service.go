package reward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"
	"unsafe"

	"github.com/star-go/star/internal/pyjson"
)

// Service is the reward as an OpenRLHF remote reward model
// (--remote_rm_url http://HOST:PORT/reward):
//
//	POST / | /reward | /get_reward
//	  {"query": [...], "prompts": [...], "labels": [...]}
//	→ {"rewards": [...], "scores": [...],
//	   "extra_logs": {"format_rewards": [...], "answer_rewards": [...]}}
//	GET /health → {"status": "ok"}
//
// query[i] is prompt + response decoded with special tokens kept, prompts[i]
// the prompt (its <tools> block is read), labels[i] the training target.
// rewards are the Sim-RL rewards (−1 for a malformed generation), scores
// the answer scores with format errors as 0 (for dynamic filtering), and
// the extra logs carry the names simrl.py gives them. Every number is
// written as a float, as the original's float tensors are.
//
// Errors are JSON {"error": "..."}: 400 for a malformed body or lists of
// different lengths, 413 for a body over MaxBodyBytes, 405 for a wrong
// method, 422 with "index" for a row the original raises on (an invalid
// label or prompt), 503 when the request runs past Timeout.
type Service struct {
	MaxBodyBytes int64         // request size limit (0: 64 MiB)
	Timeout      time.Duration // per request, reading included (0: 60s)
	Workers      int           // cores one batch may use (0: GOMAXPROCS)
	MaxInFlight  int           // requests scored at once; others wait (0: 4×GOMAXPROCS)
	Log          *log.Logger   // request log (nil: none)

	sem chan struct{}
}

// DefaultMaxBodyBytes is the request size limit when MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 20

func (s *Service) maxBody() int64 {
	if s.MaxBodyBytes > 0 {
		return s.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

func (s *Service) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 60 * time.Second
}

// Handler returns the service's routes.
func (s *Service) Handler() http.Handler {
	n := s.MaxInFlight
	if n <= 0 {
		n = 4 * runtime.GOMAXPROCS(0)
	}
	s.sem = make(chan struct{}, n)
	mux := http.NewServeMux()
	for _, p := range []string{"/{$}", "/reward", "/get_reward"} {
		mux.HandleFunc(p, s.reward)
	}
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		writeJSON(w, http.StatusOK, pyjson.NewObject("status", "ok"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s; POST /reward, GET /health", r.URL.Path), -1)
	})
	return mux
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method not allowed; use "+allow, -1)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body := pyjson.Append(nil, v, nil)
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func writeError(w http.ResponseWriter, status int, msg string, index int) {
	o := pyjson.NewObject("error", msg)
	if index >= 0 {
		o.Set("index", int64(index))
	}
	writeJSON(w, status, o)
}

// stringList reads field k of body as a list of strings.
func stringList(body *pyjson.Object, k string) ([]string, error) {
	v, ok := body.Get(k)
	if !ok {
		return nil, fmt.Errorf("missing field %q (want {\"query\": [...], \"prompts\": [...], \"labels\": [...]})", k)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("field %q: want a list of strings, got %s", k, typeName(v))
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("field %q: item %d is a %s, want a string", k, i, typeName(e))
		}
		out[i] = s
	}
	return out, nil
}

func (s *Service) reward(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout())
	defer cancel()

	body := http.MaxBytesReader(w, r.Body, s.maxBody())
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= s.maxBody() {
		buf.Grow(int(n) + 1)
	}
	_, err := buf.ReadFrom(body)
	raw := buf.Bytes()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body over the %d-byte limit", tooBig.Limit), -1)
			return
		}
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error(), -1)
		return
	}
	// decodeJSON is json.loads (as pyjson) but keeps strings without
	// escapes as slices of the body; this is most of a request's cost.
	// raw is never written again, so the text may alias it.
	v, err := decodeJSON(unsafe.String(unsafe.SliceData(raw), len(raw)))
	if err != nil {
		writeError(w, http.StatusBadRequest, "body is not JSON: "+err.Error(), -1)
		return
	}
	req, ok := v.(*pyjson.Object)
	if !ok {
		writeError(w, http.StatusBadRequest, "body must be a JSON object {\"query\", \"prompts\", \"labels\"}", -1)
		return
	}
	var lists [3][]string
	for i, k := range []string{"query", "prompts", "labels"} {
		if lists[i], err = stringList(req, k); err != nil {
			writeError(w, http.StatusBadRequest, err.Error(), -1)
			return
		}
	}
	q, p, l := lists[0], lists[1], lists[2]
	if len(p) != len(q) || len(l) != len(q) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("lists differ in length: %d query, %d prompts, %d labels",
			len(q), len(p), len(l)), -1)
		return
	}

	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		writeError(w, http.StatusServiceUnavailable, "timed out waiting for a free scorer", -1)
		return
	}
	results, err := ScoreBatchParallel(ctx, s.Workers, q, p, l)
	if err != nil {
		var be *BatchError
		switch {
		case errors.As(err, &be) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled):
			writeError(w, http.StatusUnprocessableEntity, be.Err.Error(), be.Index)
		case ctx.Err() != nil:
			writeError(w, http.StatusServiceUnavailable, "scoring did not finish in time: "+ctx.Err().Error(), -1)
		default:
			writeError(w, http.StatusBadRequest, err.Error(), -1)
		}
		return
	}
	rewards := make([]any, len(results))
	scores := make([]any, len(results))
	formats := make([]any, len(results))
	for i, res := range results {
		rewards[i], scores[i], formats[i] = res.Reward, res.AnswerScore, res.FormatScore
	}
	writeJSON(w, http.StatusOK, pyjson.NewObject(
		"rewards", rewards,
		"scores", scores,
		"extra_logs", pyjson.NewObject("format_rewards", formats, "answer_rewards", scores),
	))
	if s.Log != nil {
		s.Log.Printf("%s %s: %d rewards in %s", r.Method, r.URL.Path, len(results), time.Since(start).Round(time.Microsecond))
	}
}

// Serve serves the handler on ln until ctx is done, then shuts down
// gracefully: it stops accepting, lets requests in flight finish (up to the
// request timeout) and returns nil.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.timeout(),
		WriteTimeout:      s.timeout() + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), s.timeout()+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("reward service shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
