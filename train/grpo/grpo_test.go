package grpo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
)

type grpoFixture struct {
	GRPO struct {
		Sequences  [][]int     `json:"sequences"`
		ActionMask [][]float32 `json:"action_mask"`
		Rewards    []float64   `json:"rewards"`
		OldLogp    [][]float32 `json:"old_logp"`
		RefLogp    [][]float32 `json:"ref_logp"`
		N          int         `json:"n_samples_per_prompt"`
		Cases      []struct {
			Estimator string  `json:"advantage_estimator"`
			EpsClip   float64 `json:"eps_clip"`
			KLCoef    float64 `json:"kl_coef"`
			Loss      float64 `json:"loss"`
			Policy    float64 `json:"policy_loss"`
			KL        float64 `json:"kl"`
			GradNorm  float64 `json:"grad_norm"`
		} `json:"cases"`
	} `json:"grpo"`
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), 1e-6)
}

// TestFixtureLoss: the fixture's GRPO batch, fed through this package's
// path (groups of samples → experiences with advantages and masks →
// right-padded micro-batch objective), gives the reference loss, its parts
// and gradient norm (an independent float64 PyTorch computation).
func TestFixtureLoss(t *testing.T) {
	dir := fixture.Path(t, "fixtures/tiny-qwen3")
	b, err := os.ReadFile(filepath.Join(dir, "losses.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f grpoFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	g := f.GRPO
	m, err := model.Load(filepath.Join(dir, "tied-f32"))
	if err != nil {
		t.Fatal(err)
	}
	// Rebuild prompts and samples from the padded fixture rows: the prompt
	// ends where the action mask starts, the completion is the masked span.
	var groups []Group
	for i, seq := range g.Sequences {
		start := slices.Index(g.ActionMask[i], 1) + 1
		n := 0
		for _, v := range g.ActionMask[i] {
			n += int(v)
		}
		if i%g.N == 0 {
			groups = append(groups, Group{Prompt: &Prompt{ID: fmt.Sprint(i / g.N), Tokens: seq[:start]}})
		}
		grp := &groups[len(groups)-1]
		if !slices.Equal(grp.Prompt.Tokens, seq[:start]) {
			t.Fatalf("sequence %d: prompt differs from its group's", i)
		}
		grp.Samples = append(grp.Samples, Sample{Tokens: seq[start : start+n],
			Logprobs: g.OldLogp[i][start-1 : start-1+n], Score: Score{Reward: g.Rewards[i]}})
	}
	for _, c := range g.Cases {
		exps, err := experiences(groups, g.N, c.Estimator)
		if err != nil {
			t.Fatal(err)
		}
		for i := range exps {
			exps[i].ref = g.RefLogp[i][:len(exps[i].seq)-1]
		}
		r, err := m.LossAndGrad(objective(exps, c.EpsClip, c.KLCoef))
		if err != nil {
			t.Fatal(err)
		}
		if !relClose(r.Loss, c.Loss, 1e-4) || !relClose(r.Metrics["policy_loss"], c.Policy, 1e-4) || !relClose(r.Metrics["kl"], c.KL, 1e-4) {
			t.Errorf("%s: loss %.8g policy %.8g kl %.8g, want %.8g %.8g %.8g", c.Estimator,
				r.Loss, r.Metrics["policy_loss"], r.Metrics["kl"], c.Loss, c.Policy, c.KL)
		}
		if gn := r.GradNorm(); !relClose(gn, c.GradNorm, 1e-4) {
			t.Errorf("%s: grad norm %.8g, want %.8g", c.Estimator, gn, c.GradNorm)
		}
	}
}

func TestFilterReason(t *testing.T) {
	for _, c := range []struct {
		f      Filter
		scores []float64
		want   string
	}{
		{DefaultFilter, []float64{0, 0, 0, 0}, DropTooHard},
		{DefaultFilter, []float64{0, 0, 0, 0.04}, DropTooHard}, // mean 0.01 is not above 0.01
		{DefaultFilter, []float64{1, 1, 1, 1}, DropTooEasy},
		{DefaultFilter, []float64{0.5, 0.5, 0.5, 0.5}, DropNoSpread},
		{DefaultFilter, []float64{0, 0, 0, 0.05}, ""},
		{DefaultFilter, []float64{1, 1, 1, 0.5}, ""},
		{Filter{}, []float64{0, 0, 0, 0}, ""},
	} {
		if got := c.f.Reason(c.scores); got != c.want {
			t.Errorf("%+v %v: %q, want %q", c.f, c.scores, got, c.want)
		}
	}
}

// tinyPolicy is a random model over a 32-token vocabulary; EOS is token 2.
func tinyPolicy(t testing.TB, seed uint64) *model.Model {
	t.Helper()
	m, err := model.NewRandom(model.NewConfig(32, 16, 1, 2, 1, 8, 32, true), seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tinyPrompts(n int) []*Prompt {
	var ps []*Prompt
	for i := range n {
		ps = append(ps, &Prompt{ID: fmt.Sprint("p", i), Text: fmt.Sprint("prompt ", i), Label: fmt.Sprint(i % 4),
			Tokens: []int{1, 3 + i%7, 10 + i%5, 20 + i%4}})
	}
	return ps
}

func newTrainer(t testing.TB, cfg Config, prompts []*Prompt, r Rewarder) *Trainer {
	pol, ref := tinyPolicy(t, 7), tinyPolicy(t, 7)
	return &Trainer{Cfg: cfg, Policy: pol, Ref: ref, Reward: r, Prompts: prompts,
		Opt: model.NewTrainer(pol, model.DefaultAdamW(0), model.CosineSchedule(1e-3, cfg.Steps(len(prompts))))}
}

func smallConfig() Config {
	c := Defaults()
	c.N, c.RolloutBatch, c.MaxNewTokens, c.MicroBatch, c.Episodes, c.EOS = 4, 3, 4, 4, 1, []int{2}
	return c
}

// scripted rewards each prompt's samples by its ID: "easy" prompts score 1,
// "hard" 0, "flat" 0.5 for every sample, others 0,1,0,1 by sample.
func scripted(kind func(id string) string) RewardFunc {
	return func(ctx context.Context, qs []Query) ([]Score, error) {
		out := make([]Score, len(qs))
		for i, q := range qs {
			var r float64
			switch kind(q.Prompt) {
			case "easy":
				r = 1
			case "hard":
				r = 0
			case "flat":
				r = 0.5
			default:
				r = float64(i % 2)
			}
			out[i] = Score{Reward: r, Filter: r, Answer: r, Format: 1}
		}
		return out, nil
	}
}

// TestRefill: filtered groups are counted by reason and the batch is
// refilled from later prompts until it is full.
func TestRefill(t *testing.T) {
	prompts := tinyPrompts(12)
	kinds := map[string]string{}
	for i, p := range prompts {
		kinds[p.Text] = []string{"easy", "hard", "flat", "mixed"}[i%4]
	}
	tr := newTrainer(t, smallConfig(), prompts, scripted(func(s string) string { return kinds[s] }))
	m, err := tr.Iterate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// 3 mixed prompts among 12 in random order: the batch of 3 fills only
	// when every prompt has been generated for, in ≥ 2 rounds.
	if m.Groups != 3 || m.Samples != 12 {
		t.Errorf("groups %d samples %d, want 3, 12", m.Groups, m.Samples)
	}
	dropped := m.Filtered[DropTooEasy] + m.Filtered[DropTooHard] + m.Filtered[DropNoSpread]
	if m.Prompts != 3+dropped || m.Rounds < 2 {
		t.Errorf("prompts %d rounds %d, filtered %v", m.Prompts, m.Rounds, m.Filtered)
	}
	for _, k := range []string{DropTooEasy, DropTooHard, DropNoSpread} {
		if m.Filtered[k] > 3 {
			t.Errorf("%s: %d groups, only 3 prompts are of that kind", k, m.Filtered[k])
		}
	}
	if m.Step != 1 || m.KeptReward != 0.5 {
		t.Errorf("step %d kept reward %v, want 1, 0.5", m.Step, m.KeptReward)
	}
	if math.Abs(m.RewardMean-(float64(m.Filtered[DropTooEasy])*4+float64(m.Filtered[DropNoSpread])*2+6)/float64(4*m.Prompts)) > 1e-12 {
		t.Errorf("reward mean %v over %d prompts, filtered %v", m.RewardMean, m.Prompts, m.Filtered)
	}
}

// TestRoundBound: when no group passes, the iteration stops after
// MaxRounds rounds, says why, and applies no update.
func TestRoundBound(t *testing.T) {
	cfg := smallConfig()
	cfg.MaxRounds = 2
	tr := newTrainer(t, cfg, tinyPrompts(20), scripted(func(string) string { return "hard" }))
	m, err := tr.Iterate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Rounds != 2 || m.Prompts != 6 || m.Filtered[DropTooHard] != 6 || m.Groups != 0 || m.Step != 0 {
		t.Errorf("rounds %d prompts %d filtered %v groups %d step %d", m.Rounds, m.Prompts, m.Filtered, m.Groups, m.Step)
	}
	if m.Incomplete == "" || m.NoUpdateReason == "" {
		t.Errorf("no reason given: %+v", m)
	}
	// The run goes on: the prompts advance, the episode ends, nothing spins.
	n := 1
	for !tr.Done() {
		if _, err := tr.Iterate(context.Background()); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 4 || tr.State.Episode != 1 || tr.State.Cursor != 0 {
		t.Errorf("%d iterations, state %+v", n, tr.State)
	}
}

// TestFilterOff keeps every group, even all-equal ones (zero advantages).
func TestFilterOff(t *testing.T) {
	cfg := smallConfig()
	cfg.Filter = Filter{}
	tr := newTrainer(t, cfg, tinyPrompts(5), scripted(func(string) string { return "flat" }))
	m, err := tr.Iterate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Groups != 3 || m.Rounds != 1 || len(m.Filtered) != 0 || m.Step != 1 {
		t.Errorf("%+v", m)
	}
	m, err = tr.Iterate(context.Background()) // the last 2 prompts: a short batch ends the episode
	if err != nil {
		t.Fatal(err)
	}
	if m.Groups != 2 || !m.EndedEpisode || !tr.Done() {
		t.Errorf("%+v", m)
	}
}

func TestRewardLengthChecked(t *testing.T) {
	tr := newTrainer(t, smallConfig(), tinyPrompts(3), RewardFunc(func(ctx context.Context, qs []Query) ([]Score, error) {
		return make([]Score, len(qs)-1), nil
	}))
	if _, err := tr.Iterate(context.Background()); err == nil {
		t.Fatal("short reward list accepted")
	}
}

// TestLongPromptSkipsLogits: micro-batches of long prompts compute logits
// only from the shortest prompt on; loss, gradient and log-probs are those
// of the full computation.
func TestLongPromptSkipsLogits(t *testing.T) {
	m := tinyPolicy(t, 3)
	var groups []Group
	for i := range 2 {
		p := &Prompt{ID: fmt.Sprint(i)}
		for j := range 150 + 20*i {
			p.Tokens = append(p.Tokens, 3+(i*7+j)%29)
		}
		g := Group{Prompt: p}
		for k := range 2 {
			g.Samples = append(g.Samples, Sample{Tokens: []int{4 + k, 5, 2}, Logprobs: []float32{-3, -2.5, -3.5},
				Score: Score{Reward: float64(k)}})
		}
		groups = append(groups, g)
	}
	exps, err := experiences(groups, 2, "group_norm")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]float32
	if err := logprobs(context.Background(), m, exps, []int{0, 1, 2, 3}, budget{8, 1 << 20, 1 << 20}, func(i int, row []float32) {
		got = append(got, row)
		exps[i].ref = row
	}); err != nil {
		t.Fatal(err)
	}
	obj := objective(exps, 0.2, 1e-3)
	if obj.From != 128 {
		t.Fatalf("From %d, want 128", obj.From)
	}
	full := *obj
	full.From = 0
	a, err := m.LossAndGrad(obj)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.LossAndGrad(&full)
	if err != nil {
		t.Fatal(err)
	}
	if !relClose(a.Loss, b.Loss, 1e-5) || !relClose(a.GradNorm(), b.GradNorm(), 1e-5) || a.Loss == 0 {
		t.Errorf("loss %v grad norm %v, without skipping %v %v", a.Loss, a.GradNorm(), b.Loss, b.GradNorm())
	}
	want, err := m.TokenLogprobs([][]int{exps[0].seq, exps[1].seq, exps[2].seq, exps[3].seq})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for j, mk := range exps[i].mask {
			if mk != 0 && math.Abs(float64(got[i][j]-want[i][j])) > 1e-5 {
				t.Fatalf("logprob [%d][%d] %v, want %v", i, j, got[i][j], want[i][j])
			}
		}
	}
}

// TestContinuousRollout: continuous batching gives the same samples on
// every run (rows join as others end, prompts of different lengths), with
// the log-probs the training graph computes for them.
func TestContinuousRollout(t *testing.T) {
	m := tinyPolicy(t, 9)
	var prompts []*Prompt
	for i := range 7 {
		p := &Prompt{ID: fmt.Sprint(i)}
		for j := range 3 + 5*i {
			p.Tokens = append(p.Tokens, 3+(i+j)%28)
		}
		prompts = append(prompts, p)
	}
	s := Sampling{N: 3, MaxNewTokens: 12, Temperature: 1, TopP: 1, EOS: []int{2, 5}, GenBatch: 4, Continuous: true}
	a, na, err := rollout(context.Background(), m, prompts, s, 11)
	if err != nil {
		t.Fatal(err)
	}
	b, nb, err := rollout(context.Background(), m, prompts, s, 11)
	if err != nil {
		t.Fatal(err)
	}
	lens := map[int]bool{}
	for i := range a {
		if a[i].Prompt != prompts[i] || len(a[i].Samples) != 3 {
			t.Fatalf("group %d: prompt %v, %d samples", i, a[i].Prompt.ID, len(a[i].Samples))
		}
		for j, x := range a[i].Samples {
			y := b[i].Samples[j]
			if !slices.Equal(x.Tokens, y.Tokens) || !slices.Equal(x.Logprobs, y.Logprobs) || x.Finish != y.Finish {
				t.Fatalf("group %d sample %d differs between runs: %v %v", i, j, x.Tokens, y.Tokens)
			}
			lens[len(x.Tokens)] = true
			seq := append(slices.Clone(prompts[i].Tokens), x.Tokens...)
			lp, err := m.TokenLogprobs([][]int{seq})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range x.Logprobs {
				if d := math.Abs(float64(v - lp[0][len(prompts[i].Tokens)-1+k])); d > 1e-4 {
					t.Fatalf("group %d sample %d token %d: log-prob %v, training graph %v", i, j, k, v, lp[0][len(prompts[i].Tokens)-1+k])
				}
			}
		}
	}
	if na != nb || len(lens) < 3 {
		t.Errorf("tokens %d, %d; completion lengths %v (want several)", na, nb, lens)
	}
}
