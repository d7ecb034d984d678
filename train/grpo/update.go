package grpo

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/star-go/star/model"
)

// experience is one sample ready for the loss: its full sequence, action
// mask and log-prob rows over the len−1 scored positions (OpenRLHF's
// layout: row t−1 scores token t).
type experience struct {
	seq       []int
	prompt    int // prompt tokens: rows before prompt−1 are masked
	mask      []float32
	old, ref  []float32
	advantage float64
}

// experiences turns kept groups into samples with advantages, old
// log-probs from generation and an action mask over the completion.
func experiences(groups []Group, n int, estimator string) ([]experience, error) {
	var rewards []float64
	var out []experience
	for _, g := range groups {
		if len(g.Samples) != n {
			return nil, fmt.Errorf("prompt %s has %d samples, want %d", g.Prompt.ID, len(g.Samples), n)
		}
		P := len(g.Prompt.Tokens)
		for _, s := range g.Samples {
			if len(s.Logprobs) != len(s.Tokens) {
				return nil, fmt.Errorf("prompt %s: %d log-probs for %d tokens", g.Prompt.ID, len(s.Logprobs), len(s.Tokens))
			}
			seq := append(slices.Clip(g.Prompt.Tokens), s.Tokens...)
			e := experience{seq: seq, prompt: P, mask: make([]float32, len(seq)-1), old: make([]float32, len(seq)-1)}
			for i, lp := range s.Logprobs {
				e.mask[P-1+i] = 1
				e.old[P-1+i] = lp
			}
			out = append(out, e)
			rewards = append(rewards, s.Score.Reward)
		}
	}
	adv, err := model.Advantages(rewards, n, estimator)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].advantage = adv[i]
	}
	return out, nil
}

// budget bounds a micro-batch: at most rows sequences, rows × padded
// length ≤ tokens (activations), and rows × logits rows ≤ logits (the
// [rows, T−from, vocab] logits); the first sequence always goes.
type budget struct{ rows, tokens, logits int }

// skipFrom is how many leading rows of a micro-batch whose shortest prompt
// has p tokens need no logits (rows before p−1 score prompt tokens),
// rounded down to a multiple of 128 so that few graphs serve all batches.
func skipFrom(p int) int { return max(0, (p-1)/128*128) }

// microBatches cuts exps (in order) into micro-batches within bd. Sorting
// exps by length first keeps the padding small.
func microBatches(exps []experience, bd budget) [][]experience {
	var out [][]experience
	for lo := 0; lo < len(exps); {
		hi, T, P := lo+1, padLen(len(exps[lo].seq)), exps[lo].prompt
		for hi < len(exps) && hi-lo < bd.rows {
			t, p, n := max(T, padLen(len(exps[hi].seq))), min(P, exps[hi].prompt), hi-lo+1
			if n*t > bd.tokens || n*(t-skipFrom(p)) > bd.logits {
				break
			}
			hi, T, P = hi+1, t, p
		}
		out = append(out, exps[lo:hi])
		lo = hi
	}
	return out
}

// from is the first row of a micro-batch that needs logits.
func from(b []experience) int {
	p := b[0].prompt
	for _, e := range b {
		p = min(p, e.prompt)
	}
	return skipFrom(p)
}

// byLength returns exps' indices, shortest sequence first.
func byLength(exps []experience) []int {
	idx := make([]int, len(exps))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return len(exps[a].seq) - len(exps[b].seq) })
	return idx
}

// padLen is the length a micro-batch's sequences are padded to: the
// engine's buckets, so that a few graphs serve every batch.
func padLen(n int) int {
	b := 16
	for b < n {
		b *= 2
	}
	if n > 1024 {
		return (n + 511) / 512 * 512
	}
	return b
}

// objective is the GRPO loss of one micro-batch; sequences are right-padded
// with token 0 under a zero mask (the causal model never lets a real token
// see them).
func objective(b []experience, clip, klCoef float64) *model.GRPO {
	T := 0
	for _, e := range b {
		T = max(T, len(e.seq))
	}
	T = padLen(T)
	o := &model.GRPO{ClipEps: clip, KLCoef: klCoef, From: from(b)}
	pad := func(row []float32) []float32 { return append(slices.Clip(row), make([]float32, T-1-len(row))...) }
	for _, e := range b {
		o.Seqs = append(o.Seqs, append(slices.Clip(e.seq), make([]int, T-len(e.seq))...))
		o.Mask = append(o.Mask, pad(e.mask))
		o.OldLogprobs = append(o.OldLogprobs, pad(e.old))
		ref := e.ref
		if ref == nil {
			ref = e.old
		}
		o.RefLogprobs = append(o.RefLogprobs, pad(ref))
		o.Advantages = append(o.Advantages, e.advantage)
	}
	return o
}

// logprobs computes the token log-probs of exps[idx...] under m, a
// micro-batch at a time, and hands each row to set.
func logprobs(ctx context.Context, m *model.Model, exps []experience, idx []int, bd budget, set func(i int, row []float32)) error {
	sub := make([]experience, len(idx))
	for k, i := range idx {
		sub[k] = exps[i]
	}
	k := 0
	for _, mb := range microBatches(sub, bd) {
		if err := ctx.Err(); err != nil {
			return err
		}
		var seqs [][]int
		for _, e := range mb {
			seqs = append(seqs, e.seq)
		}
		out, err := m.TokenLogprobsFrom(seqs, from(mb))
		if err != nil {
			return err
		}
		for _, row := range out {
			set(idx[k], row)
			k++
		}
	}
	return nil
}

// maxDiff is the largest |a−b| where mask is set.
func maxDiff(a, b, mask []float32) float64 {
	d := 0.0
	for i, m := range mask {
		if m != 0 {
			d = max(d, math.Abs(float64(a[i]-b[i])))
		}
	}
	return d
}

// update trains on the kept groups: reference log-probs, a check of the
// old log-probs, then AdamW steps over shuffled train batches.
func (t *Trainer) update(ctx context.Context, groups []Group, m *Metrics) error {
	cfg := t.Cfg
	bd := budget{rows: cfg.MicroBatch, tokens: cfg.MicroTokens, logits: cfg.MicroLogits}
	if bd.rows <= 0 {
		bd.rows = 8
	}
	if bd.tokens <= 0 {
		bd.tokens = 4096
	}
	if bd.logits <= 0 {
		// About 256 MiB of float32 logits (a few copies live in the backward pass).
		bd.logits = max(64, (1<<26)/t.Policy.Config.VocabSize)
	}
	exps, err := experiences(groups, cfg.N, cfg.Advantage)
	if err != nil {
		return err
	}
	m.Groups, m.Samples = len(groups), len(exps)
	sorted := byLength(exps)

	// Old log-probs: the generation's, unless the training graph disagrees
	// on the iteration's shortest sequence.
	t0 := time.Now()
	var worst float64
	if err := logprobs(ctx, t.Policy, exps, sorted[:1], budget{1, bd.tokens, bd.logits}, func(i int, row []float32) {
		worst = maxDiff(row, exps[i].old, exps[i].mask)
	}); err != nil {
		return fmt.Errorf("old log-probs: %w", err)
	}
	m.OldLogpDiff = worst
	if worst > cfg.OldLogpTol {
		m.OldRecomputed = true
		if err := logprobs(ctx, t.Policy, exps, sorted, bd, func(i int, row []float32) { exps[i].old = row }); err != nil {
			return fmt.Errorf("old log-probs: %w", err)
		}
	}
	m.Seconds.Old = time.Since(t0).Seconds()

	if cfg.KLCoef > 0 {
		if t.Ref == nil {
			return fmt.Errorf("kl-coef %g needs a reference model", cfg.KLCoef)
		}
		t0 = time.Now()
		if err := logprobs(ctx, t.Ref, exps, sorted, bd, func(i int, row []float32) { exps[i].ref = row }); err != nil {
			return fmt.Errorf("reference log-probs: %w", err)
		}
		m.Seconds.Ref = time.Since(t0).Seconds()
	}

	t0 = time.Now()
	rng := rand.New(rand.NewPCG(cfg.Seed, mix(0x7a11, uint64(t.State.Iteration))))
	rng.Shuffle(len(exps), func(i, j int) { exps[i], exps[j] = exps[j], exps[i] })
	tb := cfg.TrainBatch
	if tb <= 0 {
		tb = len(exps)
	}
	var nMicro, nSteps int
	for lo := 0; lo < len(exps); lo += tb {
		batch := slices.Clone(exps[lo:min(lo+tb, len(exps))])
		// Similar lengths together: less padding per micro-batch.
		slices.SortStableFunc(batch, func(a, b experience) int { return len(a.seq) - len(b.seq) })
		accumulated := 0
		for _, mbatch := range microBatches(batch, bd) {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := t.Opt.Accumulate(objective(mbatch, cfg.Clip, cfg.KLCoef))
			var nf *model.NonFiniteError
			if errors.As(err, &nf) {
				log.Printf("grpo: iteration %d: %v; micro-batch skipped", t.State.Iteration+1, err)
				m.SkippedMicro++
				continue
			} else if err != nil {
				return err
			}
			accumulated++
			nMicro++
			m.PolicyLoss += r.Metrics["policy_loss"]
			m.KL += r.Metrics["kl"]
			m.ClipFrac += r.Metrics["clip_frac"]
			m.Loss += r.Loss
			for _, e := range mbatch {
				m.TrainTokens += len(e.seq)
			}
		}
		if accumulated == 0 {
			t.State.BadSteps++
		} else {
			st, err := t.Opt.Apply()
			var nf *model.NonFiniteError
			switch {
			case errors.As(err, &nf):
				log.Printf("grpo: iteration %d: %v; step skipped", t.State.Iteration+1, err)
				t.State.BadSteps++
			case err != nil:
				return err
			default:
				t.State.BadSteps = 0
				nSteps++
				m.GradNorm += st.GradNorm
				m.LR = st.LR
			}
		}
		if t.State.BadSteps > maxBadSteps {
			return fmt.Errorf("iteration %d: %w (%d)", t.State.Iteration+1, ErrNonFinite, t.State.BadSteps)
		}
	}
	if nMicro > 0 {
		k := float64(nMicro)
		m.PolicyLoss, m.KL, m.ClipFrac, m.Loss = m.PolicyLoss/k, m.KL/k, m.ClipFrac/k, m.Loss/k
	}
	if nSteps > 0 {
		m.GradNorm /= float64(nSteps)
	}
	if cfg.KLCoef == 0 {
		m.KL = 0 // measured against the old policy, not a reference
	}
	m.Seconds.Update = time.Since(t0).Seconds()
	return nil
}
