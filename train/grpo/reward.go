package grpo

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sync"
	"time"

	"github.com/star-go/star/endpoint"
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
// of BatchSize and sent with the shared endpoint client: a connection
// error, a timeout, 408, 429 or 5xx is retried with exponential backoff
// (Retry-After honoured); any other answer, or lists of the wrong length,
// is an error that stops the run.
type Remote struct {
	URL       string
	BatchSize int           // queries per request (0: 256)
	Retries   int           // retries per request (0: 4)
	Timeout   time.Duration // per attempt (0: 120s)
	Backoff   time.Duration // first retry delay, doubled each time (0: 500ms)

	once   sync.Once
	client *endpoint.Client
	path   string
	err    error
}

type remoteReply struct {
	Rewards   []float64 `json:"rewards"`
	Scores    []float64 `json:"scores"`
	ExtraLogs struct {
		Format []float64 `json:"format_rewards"`
		Answer []float64 `json:"answer_rewards"`
	} `json:"extra_logs"`
}

func (r *Remote) init() error {
	r.once.Do(func() {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			r.err = fmt.Errorf("reward URL %q: want http(s)://HOST[:PORT]/PATH", r.URL)
			return
		}
		r.path = u.EscapedPath()
		if r.path == "" {
			r.path = "/"
		}
		if u.RawQuery != "" {
			r.path += "?" + u.RawQuery
		}
		retries, timeout := r.Retries, r.Timeout
		if retries <= 0 {
			retries = 4
		}
		if timeout <= 0 {
			timeout = 120 * time.Second
		}
		r.client = &endpoint.Client{BaseURL: u.Scheme + "://" + u.Host, MaxAttempts: retries + 1,
			Timeout: timeout, Backoff: r.Backoff}
	})
	return r.err
}

// Score sends qs in batches and returns their scores.
func (r *Remote) Score(ctx context.Context, qs []Query) ([]Score, error) {
	if err := r.init(); err != nil {
		return nil, err
	}
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

func (r *Remote) batch(ctx context.Context, qs []Query) ([]Score, error) {
	req := struct {
		Query   []string `json:"query"`
		Prompts []string `json:"prompts"`
		Labels  []string `json:"labels"`
	}{make([]string, len(qs)), make([]string, len(qs)), make([]string, len(qs))}
	for i, q := range qs {
		req.Query[i], req.Prompts[i], req.Labels[i] = q.Query, q.Prompt, q.Label
	}
	var rep remoteReply
	if err := r.client.Post(ctx, r.path, req, &rep); err != nil {
		return nil, err
	}
	return rep.scores(len(qs))
}

// scores checks the lists' lengths and converts them; scores defaults to
// the rewards (as OpenRLHF does when a service sends none).
func (rep *remoteReply) scores(n int) ([]Score, error) {
	check := func(name string, l []float64, optional bool) error {
		if (optional && l == nil) || len(l) == n {
			return nil
		}
		return fmt.Errorf("answer has %d %s for %d queries", len(l), name, n)
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
