// Package grpo is Sim-RL's trainer: GRPO as OpenRLHF computes it (STAR-SPEC
// §6.2) on the engine. An iteration samples n completions of each prompt
// with the KV cache, scores them (the Sim-RL reward in-process or any
// OpenRLHF remote reward service), keeps the prompt groups dynamic
// filtering accepts until the rollout batch is full, turns rewards into
// group advantages and applies AdamW steps on the clipped surrogate plus the
// k2 KL against a frozen reference.
package grpo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/star-go/star/model"
)

// Config is the algorithm's settings; Defaults are STAR's.
type Config struct {
	Sampling
	RolloutBatch int `json:"rollout_batch"` // prompt groups per iteration
	// TrainBatch is the sequences per optimizer step (0: all of an
	// iteration's, one step per rollout).
	TrainBatch int `json:"train_batch"`
	MicroBatch int `json:"micro_batch"` // most sequences per forward/backward (0: 8)
	// MicroTokens caps a micro-batch's padded tokens (0: 4096) and
	// MicroLogits its rows of logits (0: 2^26 / vocab, about 256 MiB of
	// float32); a sequence over either goes alone. Logits are computed only
	// from the micro-batch's shortest prompt on (model.SkipsLogits).
	MicroTokens int     `json:"micro_tokens"`
	MicroLogits int     `json:"micro_logits"`
	Episodes    int     `json:"episodes"` // passes over the prompts
	Advantage   string  `json:"advantage"`
	Clip        float64 `json:"clip"`
	KLCoef      float64 `json:"kl_coef"`
	Filter      Filter  `json:"filter"`
	// MaxRounds bounds the generation rounds spent filling one rollout
	// batch (0: 8); when hit, the iteration trains on what it has.
	MaxRounds int    `json:"max_rounds"`
	Seed      uint64 `json:"seed"`
	// OldLogpTol: when the generation's log-probs differ from the training
	// graph's by more than this on an iteration's first micro-batch, the old
	// log-probs of the iteration are recomputed with the training graph.
	OldLogpTol float64 `json:"old_logp_tol"`
}

// Defaults returns STAR's Sim-RL configuration (STAR-SPEC §6.2).
func Defaults() Config {
	return Config{
		Sampling:     Sampling{N: 8, MaxNewTokens: 512, Temperature: 1, TopP: 1, GenBatch: 64, Continuous: true},
		RolloutBatch: 128, MicroBatch: 8, Episodes: 3, Advantage: "group_norm",
		Clip: 0.2, KLCoef: 1e-3, Filter: DefaultFilter, MaxRounds: 8, OldLogpTol: 1e-3,
	}
}

func (c *Config) check() error {
	switch {
	case c.N < 1:
		return fmt.Errorf("n-samples must be ≥ 1")
	case c.Advantage == "group_norm" && c.N < 2:
		return fmt.Errorf("group_norm advantages need n-samples ≥ 2")
	case c.RolloutBatch < 1:
		return fmt.Errorf("rollout-batch must be ≥ 1")
	case c.MaxNewTokens < 1:
		return fmt.Errorf("max-new-tokens must be ≥ 1")
	case c.Episodes < 1:
		return fmt.Errorf("episodes must be ≥ 1")
	case c.Advantage != "group_norm" && c.Advantage != "dr_grpo":
		return fmt.Errorf("advantage %q: want group_norm or dr_grpo", c.Advantage)
	case c.Clip <= 0:
		return fmt.Errorf("clip must be > 0")
	case c.KLCoef < 0:
		return fmt.Errorf("kl-coef must be ≥ 0")
	case c.Filter.On && !(c.Filter.Low < c.Filter.High):
		return fmt.Errorf("filter bounds %g,%g: low must be below high", c.Filter.Low, c.Filter.High)
	}
	return nil
}

// Steps is the number of optimizer steps a run over nPrompts is planned for
// (the learning-rate schedule's length; dynamic filtering may end with fewer).
func (c *Config) Steps(nPrompts int) int {
	iters := (nPrompts + c.RolloutBatch - 1) / c.RolloutBatch
	perIter := 1
	if c.TrainBatch > 0 {
		perIter = (c.RolloutBatch*c.N + c.TrainBatch - 1) / c.TrainBatch
	}
	return max(1, c.Episodes*iters*perIter)
}

// State is where a run is: everything besides the weights and the
// optimizer that resuming needs. Sampling seeds and data order derive from
// Config.Seed and these counters, so they are the whole RNG state.
type State struct {
	Episode   int    `json:"episode"`   // current episode, from 0
	Cursor    int    `json:"cursor"`    // prompts of this episode consumed
	Iteration int    `json:"iteration"` // completed iterations
	Rounds    uint64 `json:"rounds"`    // generation rounds so far
	BadSteps  int    `json:"bad_steps"` // consecutive non-finite steps
}

// Trainer runs Sim-RL iterations.
type Trainer struct {
	Cfg     Config
	Policy  *model.Model
	Ref     *model.Model // frozen reference; may be nil when KLCoef is 0
	Opt     *model.Trainer
	Reward  Rewarder
	Prompts []*Prompt
	// Decode renders ids as text with special tokens kept (the reward's query).
	Decode func(ids []int) string
	State  State
}

// Done reports whether every episode has run.
func (t *Trainer) Done() bool { return t.State.Episode >= t.Cfg.Episodes }

// order is episode e's permutation of the prompts.
func (t *Trainer) order(e int) []int {
	return rand.New(rand.NewPCG(t.Cfg.Seed, mix(0x51e4, uint64(e)))).Perm(len(t.Prompts))
}

// Metrics describe one iteration (one line of metrics.jsonl). Reward
// statistics are over every completion generated in the iteration, filtered
// groups included; KL, clip fraction and losses are means over the
// micro-batches of the update.
type Metrics struct {
	Iteration int `json:"iteration"`
	Episode   int `json:"episode"`
	Step      int `json:"step"` // optimizer steps so far

	Prompts    int            `json:"prompts"` // prompts generated for
	Groups     int            `json:"groups"`  // groups trained on
	Samples    int            `json:"samples"`
	Rounds     int            `json:"rounds"`
	Filtered   map[string]int `json:"filtered"`
	Incomplete string         `json:"incomplete,omitempty"` // why the batch is short

	RewardMean  float64  `json:"reward_mean"`
	RewardStd   float64  `json:"reward_std"`
	RewardMin   float64  `json:"reward_min"`
	RewardMax   float64  `json:"reward_max"`
	AnswerMean  *float64 `json:"answer_mean,omitempty"`
	FormatMean  *float64 `json:"format_mean,omitempty"`
	FormatError float64  `json:"format_error_frac"` // share with reward −1
	KeptReward  float64  `json:"kept_reward_mean"`

	CompletionLen  float64 `json:"completion_len_mean"`
	CompletionMax  int     `json:"completion_len_max"`
	Truncated      float64 `json:"truncated_frac"`
	Entropy        float64 `json:"entropy"` // mean −log p of the sampled tokens (estimate)
	OldLogpDiff    float64 `json:"old_logp_diff"`
	OldRecomputed  bool    `json:"old_logp_recomputed,omitempty"`
	PolicyLoss     float64 `json:"policy_loss"`
	KL             float64 `json:"kl"`
	ClipFrac       float64 `json:"clip_frac"`
	Loss           float64 `json:"loss"`
	GradNorm       float64 `json:"grad_norm"`
	LR             float64 `json:"lr"`
	SkippedMicro   int     `json:"skipped_micro_batches,omitempty"`
	RolloutTokens  int     `json:"rollout_tokens"`
	RolloutTokS    float64 `json:"rollout_tok_s"`
	TrainTokens    int     `json:"train_tokens"`
	TrainTokS      float64 `json:"train_tok_s"`
	Seconds        Phases  `json:"seconds"`
	EndedEpisode   bool    `json:"ended_episode,omitempty"`
	NoUpdateReason string  `json:"no_update,omitempty"`
}

// Phases is where an iteration's time went.
type Phases struct {
	Generate float64 `json:"generate"`
	Reward   float64 `json:"reward"`
	Ref      float64 `json:"ref_logprobs"`
	Old      float64 `json:"old_logprobs"`
	Update   float64 `json:"update"`
	Total    float64 `json:"total"`
}

// ErrNonFinite stops a run after too many consecutive non-finite steps.
var ErrNonFinite = errors.New("too many consecutive non-finite steps")

// maxBadSteps is how many non-finite steps in a row a run tolerates.
const maxBadSteps = 3

// Iterate runs one iteration: collect a rollout batch, then update. It
// advances State; on error the state may be partly advanced and the run
// should stop without saving.
func (t *Trainer) Iterate(ctx context.Context) (*Metrics, error) {
	if err := t.Cfg.check(); err != nil {
		return nil, err
	}
	if t.Done() {
		return nil, fmt.Errorf("grpo: all %d episodes are done", t.Cfg.Episodes)
	}
	start := time.Now()
	st := &t.State
	m := &Metrics{Iteration: st.Iteration + 1, Episode: st.Episode, Filtered: map[string]int{}}
	maxRounds := t.Cfg.MaxRounds
	if maxRounds <= 0 {
		maxRounds = 8
	}
	perm := t.order(st.Episode)
	var kept []Group
	var all []Sample
	for len(kept) < t.Cfg.RolloutBatch {
		if st.Cursor >= len(perm) {
			m.Incomplete = fmt.Sprintf("episode %d ran out of prompts with %d of %d groups", st.Episode+1, len(kept), t.Cfg.RolloutBatch)
			break
		}
		if m.Rounds == maxRounds {
			m.Incomplete = fmt.Sprintf("%d generation rounds gave %d of %d groups", maxRounds, len(kept), t.Cfg.RolloutBatch)
			break
		}
		need := min(t.Cfg.RolloutBatch-len(kept), len(perm)-st.Cursor)
		prompts := make([]*Prompt, need)
		for i, j := range perm[st.Cursor : st.Cursor+need] {
			prompts[i] = t.Prompts[j]
		}
		t0 := time.Now()
		groups, ntok, err := rollout(ctx, t.Policy, prompts, t.Cfg.Sampling, mix(t.Cfg.Seed, st.Rounds))
		if err != nil {
			return nil, err
		}
		m.Seconds.Generate += time.Since(t0).Seconds()
		m.RolloutTokens += ntok
		st.Cursor += need
		st.Rounds++
		m.Rounds++
		m.Prompts += need

		t0 = time.Now()
		if err := t.score(ctx, groups); err != nil {
			return nil, err
		}
		m.Seconds.Reward += time.Since(t0).Seconds()
		for _, g := range groups {
			all = append(all, g.Samples...)
			if why := t.Cfg.Filter.Reason(g.filterScores()); why != "" {
				m.Filtered[why]++
				continue
			}
			kept = append(kept, g)
		}
	}
	if st.Cursor >= len(perm) {
		st.Episode++
		st.Cursor = 0
		m.EndedEpisode = true
	}
	m.rolloutStats(all, kept)
	if len(kept) == 0 {
		m.NoUpdateReason = "no group passed the filter"
	} else if err := t.update(ctx, kept, m); err != nil {
		return nil, err
	}
	st.Iteration++
	m.Step = t.Opt.Step
	m.Seconds.Total = time.Since(start).Seconds()
	if m.Seconds.Generate > 0 {
		m.RolloutTokS = float64(m.RolloutTokens) / m.Seconds.Generate
	}
	if m.Seconds.Update > 0 {
		m.TrainTokS = float64(m.TrainTokens) / m.Seconds.Update
	}
	return m, nil
}

// score rewards every sample of groups.
func (t *Trainer) score(ctx context.Context, groups []Group) error {
	var qs []Query
	for _, g := range groups {
		for _, s := range g.Samples {
			q := Query{Prompt: g.Prompt.Text, Label: g.Prompt.Label, Completion: s.Tokens}
			if t.Decode != nil {
				q.Query = t.Decode(append(slices.Clip(g.Prompt.Tokens), s.Tokens...))
			}
			qs = append(qs, q)
		}
	}
	scores, err := t.Reward.Score(ctx, qs)
	if err != nil {
		return err
	}
	if len(scores) != len(qs) {
		return fmt.Errorf("reward: %d scores for %d completions", len(scores), len(qs))
	}
	k := 0
	for gi := range groups {
		for si := range groups[gi].Samples {
			sc := scores[k]
			if math.IsNaN(sc.Reward) || math.IsInf(sc.Reward, 0) {
				return fmt.Errorf("reward: completion %d of prompt %s has reward %v", si, groups[gi].Prompt.ID, sc.Reward)
			}
			groups[gi].Samples[si].Score = sc
			k++
		}
	}
	return nil
}

func (m *Metrics) rolloutStats(all []Sample, kept []Group) {
	if len(all) == 0 {
		return
	}
	m.RewardMin, m.RewardMax = math.Inf(1), math.Inf(-1)
	var sum, sq, ans, fmtS, lens, trunc, nll float64
	var nAns, nFmt, nTok, fmtErr int
	for _, s := range all {
		r := s.Score.Reward
		sum += r
		sq += r * r
		m.RewardMin, m.RewardMax = min(m.RewardMin, r), max(m.RewardMax, r)
		if !math.IsNaN(s.Score.Answer) {
			ans += s.Score.Answer
			nAns++
		}
		if !math.IsNaN(s.Score.Format) {
			fmtS += s.Score.Format
			nFmt++
			if s.Score.Format < 0 {
				fmtErr++
			}
		} else if r == -1 {
			fmtErr++
		}
		lens += float64(len(s.Tokens))
		m.CompletionMax = max(m.CompletionMax, len(s.Tokens))
		if s.Finish == "length" {
			trunc++
		}
		for _, lp := range s.Logprobs {
			nll -= float64(lp)
		}
		nTok += len(s.Logprobs)
	}
	n := float64(len(all))
	m.RewardMean = sum / n
	m.RewardStd = math.Sqrt(max(0, sq/n-m.RewardMean*m.RewardMean))
	if nAns > 0 {
		v := ans / float64(nAns)
		m.AnswerMean = &v
	}
	if nFmt > 0 {
		v := fmtS / float64(nFmt)
		m.FormatMean = &v
	}
	m.FormatError = float64(fmtErr) / n
	m.CompletionLen = lens / n
	m.Truncated = trunc / n
	if nTok > 0 {
		m.Entropy = nll / float64(nTok)
	}
	var ks float64
	var kn int
	for _, g := range kept {
		for _, s := range g.Samples {
			ks += s.Score.Reward
			kn++
		}
	}
	if kn > 0 {
		m.KeptReward = ks / float64(kn)
	}
}
