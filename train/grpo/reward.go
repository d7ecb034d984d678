package grpo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/star-go/star/reward"
)

// Query is one completion to score, as OpenRLHF hands it to a reward
// function: Query is prompt + completion decoded with special tokens kept.
type Query struct {
	Query, Prompt, Label string
	Completion           []int // the sampled token ids (for rewards over ids)
}

// Score is a completion's reward. Reward is what GRPO optimises; Filter is
// the score dynamic filtering looks at (OpenRLHF "scores": the answer score
// with format errors as 0); Answer and Format are the logged parts
// (Format 1, or −1 for a malformed generation).
type Score struct {
	Reward, Filter, Answer, Format float64
}

// Rewarder scores a batch of completions, one Score per query, in order.
type Rewarder interface {
	Score(ctx context.Context, qs []Query) ([]Score, error)
}

// RewardFunc adapts a function to a Rewarder (tests, custom rewards).
type RewardFunc func(ctx context.Context, qs []Query) ([]Score, error)

// Score calls f.
func (f RewardFunc) Score(ctx context.Context, qs []Query) ([]Score, error) { return f(ctx, qs) }

// Builtin is STAR's Sim-RL reward (package reward) run in-process.
type Builtin struct {
	Workers int // cores (0: GOMAXPROCS)
}

// Score scores qs with reward.ScoreBatchParallel.
func (b Builtin) Score(ctx context.Context, qs []Query) ([]Score, error) {
	queries, prompts, labels := make([]string, len(qs)), make([]string, len(qs)), make([]string, len(qs))
	for i, q := range qs {
		queries[i], prompts[i], labels[i] = q.Query, q.Prompt, q.Label
	}
	rs, err := reward.ScoreBatchParallel(ctx, b.Workers, queries, prompts, labels)
	if err != nil {
		return nil, fmt.Errorf("reward: %w", err)
	}
	out := make([]Score, len(rs))
	for i, r := range rs {
		out[i] = Score{Reward: r.Reward, Filter: r.AnswerScore, Answer: r.AnswerScore, Format: r.FormatScore}
	}
	return out, nil
}

// Remote calls a reward service that speaks OpenRLHF's remote reward
// protocol (`--remote_rm_url`): POST {"query", "prompts", "labels"} →
// {"rewards", "scores"?, "extra_logs"?}. Requests are split into batches
// of BatchSize; a connection error, a timeout, 429 or 5xx is retried with
// exponential backoff (Retry-After honoured); any other answer, or lists of
// the wrong length, is an error that stops the run.
type Remote struct {
	URL       string
	BatchSize int           // queries per request (0: 256)
	Retries   int           // retries per request (0: 4)
	Timeout   time.Duration // per attempt (0: 120s)
	Backoff   time.Duration // first retry delay, doubled each time (0: 500ms)
	Client    *http.Client  // nil: http.DefaultClient
}

type remoteReply struct {
	Rewards   []float64 `json:"rewards"`
	Scores    []float64 `json:"scores"`
	ExtraLogs struct {
		Format []float64 `json:"format_rewards"`
		Answer []float64 `json:"answer_rewards"`
	} `json:"extra_logs"`
}

// Score sends qs in batches and returns their scores.
func (r *Remote) Score(ctx context.Context, qs []Query) ([]Score, error) {
	bs := r.BatchSize
	if bs <= 0 {
		bs = 256
	}
	out := make([]Score, 0, len(qs))
	for lo := 0; lo < len(qs); lo += bs {
		part, err := r.batch(ctx, qs[lo:min(lo+bs, len(qs))])
		if err != nil {
			return nil, fmt.Errorf("reward %s: queries %d..%d: %w", r.URL, lo, min(lo+bs, len(qs))-1, err)
		}
		out = append(out, part...)
	}
	return out, nil
}

// permanentError is an answer that retrying will not change.
type permanentError struct{ error }

func (r *Remote) batch(ctx context.Context, qs []Query) ([]Score, error) {
	req := struct {
		Query   []string `json:"query"`
		Prompts []string `json:"prompts"`
		Labels  []string `json:"labels"`
	}{make([]string, len(qs)), make([]string, len(qs)), make([]string, len(qs))}
	for i, q := range qs {
		req.Query[i], req.Prompts[i], req.Labels[i] = q.Query, q.Prompt, q.Label
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	retries, backoff := r.Retries, r.Backoff
	if retries <= 0 {
		retries = 4
	}
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	var last error
	for attempt := 0; ; attempt++ {
		reply, wait, err := r.post(ctx, body)
		if err == nil {
			return reply.scores(len(qs))
		}
		var perm permanentError
		if errors.As(err, &perm) || ctx.Err() != nil {
			return nil, err
		}
		last = err
		if attempt == retries {
			return nil, fmt.Errorf("giving up after %d attempts: %w", attempt+1, last)
		}
		if wait <= 0 {
			wait = backoff << attempt
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// post makes one attempt; wait is the server's Retry-After, if any.
func (r *Remote) post(ctx context.Context, body []byte) (*remoteReply, time.Duration, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 120 * time.Second
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, r.URL, bytes.NewReader(body))
	if err != nil {
		return nil, 0, permanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err // connection error or timeout: retried
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		msg := fmt.Errorf("HTTP %d: %s", resp.StatusCode, clip(raw))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			var wait time.Duration
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
				wait = time.Duration(s) * time.Second
			}
			return nil, wait, msg
		}
		return nil, 0, permanentError{msg}
	}
	var rep remoteReply
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, 0, permanentError{fmt.Errorf("answer is not the reward protocol's JSON: %v: %s", err, clip(raw))}
	}
	return &rep, 0, nil
}

// scores checks the lists' lengths and converts them; scores defaults to
// the rewards (as OpenRLHF does when a service sends none).
func (rep *remoteReply) scores(n int) ([]Score, error) {
	check := func(name string, l []float64, optional bool) error {
		if (optional && l == nil) || len(l) == n {
			return nil
		}
		return permanentError{fmt.Errorf("answer has %d %s for %d queries", len(l), name, n)}
	}
	if err := check("rewards", rep.Rewards, false); err != nil {
		return nil, err
	}
	if err := check("scores", rep.Scores, true); err != nil {
		return nil, err
	}
	if err := check("extra_logs.format_rewards", rep.ExtraLogs.Format, true); err != nil {
		return nil, err
	}
	if err := check("extra_logs.answer_rewards", rep.ExtraLogs.Answer, true); err != nil {
		return nil, err
	}
	out := make([]Score, n)
	for i := range out {
		s := Score{Reward: rep.Rewards[i], Filter: rep.Rewards[i], Answer: math.NaN(), Format: math.NaN()}
		if rep.Scores != nil {
			s.Filter = rep.Scores[i]
		}
		if rep.ExtraLogs.Answer != nil {
			s.Answer = rep.ExtraLogs.Answer[i]
		}
		if rep.ExtraLogs.Format != nil {
			s.Format = rep.ExtraLogs.Format[i]
		}
		out[i] = s
	}
	return out, nil
}

func clip(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
