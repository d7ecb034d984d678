package train

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/progress"
	"github.com/star-go/star/model"
	"github.com/star-go/star/reward"
	"github.com/star-go/star/tokenizer"
	"github.com/star-go/star/train/grpo"
)

// SimRLOptions configure `star train simrl`.
type SimRLOptions struct {
	Model   string // starting policy (an HF model directory with its tokenizer)
	Ref     string // reference policy ("" = Model)
	Data    string // {id, inputs, targets} JSONL
	RunDir  string
	Rejects string // where rejected records go ("" = counted only)
	Command []string

	GRPO         grpo.Config
	LR           float64
	MaxPromptLen int // prompts longer than this are rejected (0: 1024)
	SaveEvery    int // iterations between checkpoints (0: only at the end)
	Resume       bool
	// RewardURL is an OpenRLHF remote reward service; "" uses the builtin
	// Sim-RL reward. Reward, if set, replaces both (tests, custom rewards).
	RewardURL string
	Reward    grpo.Rewarder
	// Plot writes RUN_DIR/curves.png at the end (nil: none).
	Plot func(runDirs []string, out string) error
	// Stop, if set, ends the run cleanly after that many iterations of this
	// invocation (a checkpoint is written first): tests of resume.
	Stop int
}

// SimRLSummary is what a finished (or stopped) run reports.
type SimRLSummary struct {
	Iterations, Steps int
	Prompts, Rejected int
	Filtered          map[string]int // dropped groups by reason, this invocation
	FirstReward       float64        // mean reward of this invocation's first iteration
	LastReward        float64
	Final             string // final model directory ("" when stopped early)
	Seconds           float64
}

// simrlHyper is run.json's hyperparameters for Sim-RL.
type simrlHyper struct {
	grpo.Config
	LR           float64 `json:"lr"`
	MaxPromptLen int     `json:"max_prompt_len"`
	SaveEvery    int     `json:"save_every"`
	Reward       string  `json:"reward"`
	Ref          string  `json:"ref"`
	Steps        int     `json:"planned_steps"`
	Schedule     model.Schedule
	AdamW        model.AdamW
}

// simrlExtra is the Sim-RL part of a checkpoint's trainer state.
type simrlExtra struct {
	GRPO grpo.State `json:"grpo"`
}

// SimRL runs Sim-RL (GRPO with the Sim-RL reward) and writes the run
// directory; progress and the summary go to log.
func SimRL(ctx context.Context, o SimRLOptions, log io.Writer) (*SimRLSummary, error) {
	start := time.Now()
	if o.MaxPromptLen <= 0 {
		o.MaxPromptLen = 1024
	}
	if o.Ref == "" {
		o.Ref = o.Model
	}
	if o.LR <= 0 {
		return nil, fmt.Errorf("lr must be > 0")
	}
	tok, err := tokenizer.Load(o.Model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Model, err)
	}
	rejects, err := jsonl.NewRejects(o.Rejects)
	if err != nil {
		return nil, err
	}
	var check func(prompt, label string) error
	if o.Reward == nil && o.RewardURL == "" {
		check = builtinCheck
	}
	prompts, err := readSimRLPrompts(o.Data, tok, o.MaxPromptLen, check, rejects)
	if cerr := rejects.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	sum := &SimRLSummary{Prompts: len(prompts), Rejected: rejects.Total(), Filtered: map[string]int{}}
	if len(prompts) == 0 {
		return nil, fmt.Errorf("%s: no usable prompts (%s)", o.Data, rejects.Summary())
	}
	cfg := o.GRPO
	if len(cfg.EOS) == 0 {
		cfg.EOS = simrlEOS(o.Model, tok)
	}
	rewarder := o.Reward
	rewardName := "custom"
	switch {
	case rewarder != nil:
	case o.RewardURL != "":
		rewarder, rewardName = &grpo.Remote{URL: o.RewardURL}, o.RewardURL
	default:
		rewarder, rewardName = grpo.Builtin{}, "builtin"
	}
	steps := cfg.Steps(len(prompts))
	sched, opt := model.CosineSchedule(o.LR, steps), model.DefaultAdamW(0)
	hash, err := HashFile(o.Data)
	if err != nil {
		return nil, err
	}
	info := Info{Kind: "simrl", Command: o.Command, Model: o.Model, Data: map[string]string{o.Data: hash},
		Hyper: simrlHyper{Config: cfg, LR: o.LR, MaxPromptLen: o.MaxPromptLen, SaveEvery: o.SaveEvery,
			Reward: rewardName, Ref: o.Ref, Steps: steps, Schedule: sched, AdamW: opt}}
	if o.Resume {
		if err := trimSimRLMetrics(o.RunDir); err != nil {
			return nil, err
		}
	}
	run, err := Open(o.RunDir, info, o.Resume)
	if err != nil {
		return nil, err
	}
	defer run.Close()

	t := &grpo.Trainer{Cfg: cfg, Reward: rewarder, Prompts: prompts, Decode: tok.Decode}
	if run.From != nil {
		tr, st, err := Restore(*run.From)
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		var extra simrlExtra
		if err := json.Unmarshal(st.Extra, &extra); err != nil {
			return nil, fmt.Errorf("resume %s: Sim-RL state: %w", run.From.Dir, err)
		}
		t.Opt, t.Policy, t.State = tr, tr.M, extra.GRPO
		fmt.Fprintf(log, "simrl: resuming %s at iteration %d (episode %d, prompt %d, step %d)\n",
			run.From.Dir, extra.GRPO.Iteration, extra.GRPO.Episode+1, extra.GRPO.Cursor, tr.Step)
	} else {
		m, err := model.Load(o.Model)
		if err != nil {
			return nil, err
		}
		t.Policy, t.Opt = m, model.NewTrainer(m, opt, sched)
	}
	if cfg.KLCoef > 0 {
		if t.Ref, err = model.Load(o.Ref); err != nil {
			return nil, fmt.Errorf("reference: %w", err)
		}
		if t.Ref.Config.VocabSize != t.Policy.Config.VocabSize {
			return nil, fmt.Errorf("reference %s has a vocabulary of %d, the policy %s of %d",
				o.Ref, t.Ref.Config.VocabSize, o.Model, t.Policy.Config.VocabSize)
		}
	}
	fmt.Fprintf(log, "simrl: %d prompts (%s), %d×%d samples per iteration, %d episodes, ~%d steps, lr %g, kl %g, %s advantages, filter %v, reward %s\n",
		len(prompts), rejects.Summary(), cfg.RolloutBatch, cfg.N, cfg.Episodes, steps, o.LR, cfg.KLCoef,
		cfg.Advantage, filterText(cfg.Filter), rewardName)

	save := func() error {
		extra, err := json.Marshal(simrlExtra{GRPO: t.State})
		if err != nil {
			return err
		}
		_, err = run.Save(t.Opt, State{Extra: extra})
		return err
	}
	perEpoch := (len(prompts) + cfg.RolloutBatch - 1) / cfg.RolloutBatch
	bar := progress.New("simrl", int64(cfg.Episodes*len(prompts)), "prompt")
	lastSaved := t.State.Iteration
	for n := 0; !t.Done(); n++ {
		if o.Stop > 0 && n == o.Stop {
			bar.Finish()
			if err := save(); err != nil {
				return nil, err
			}
			sum.Seconds = time.Since(start).Seconds()
			return sum, nil
		}
		before, stepBefore := t.State, t.Opt.Step
		m, err := t.Iterate(ctx)
		if err != nil {
			bar.Finish()
			if ctx.Err() != nil {
				return nil, interruptedSimRL(t, before, stepBefore, lastSaved, save, log, err)
			}
			return nil, fmt.Errorf("iteration %d: %w (nothing saved since iteration %d)", t.State.Iteration+1, err, lastSaved)
		}
		if err := run.Log(m); err != nil {
			return nil, err
		}
		if sum.Iterations == 0 {
			sum.FirstReward = m.RewardMean
		}
		sum.Iterations++
		for k, v := range m.Filtered {
			sum.Filtered[k] += v
		}
		sum.LastReward, sum.Steps = m.RewardMean, t.Opt.Step
		bar.Set(int64(t.State.Episode*len(prompts)+t.State.Cursor), int64(t.State.Iteration))
		if m.Incomplete != "" {
			fmt.Fprintf(log, "simrl: iteration %d: %s (filtered: %v)\n", m.Iteration, m.Incomplete, m.Filtered)
		}
		if o.SaveEvery > 0 && t.State.Iteration%o.SaveEvery == 0 && !t.Done() {
			if err := save(); err != nil {
				return nil, err
			}
			lastSaved = t.State.Iteration
		}
	}
	bar.Finish()
	if err := save(); err != nil {
		return nil, err
	}
	final, err := run.SaveFinal(t.Policy, "")
	if err != nil {
		return nil, err
	}
	sum.Final, sum.Seconds = final, time.Since(start).Seconds()
	if err := run.Close(); err != nil {
		return nil, err
	}
	if o.Plot != nil {
		if err := o.Plot([]string{o.RunDir}, filepath.Join(o.RunDir, CurvesFile)); err != nil {
			fmt.Fprintf(log, "warning: %s: %v\n", CurvesFile, err)
		}
	}
	fmt.Fprintf(log, "simrl: %d iterations (%d per episode planned), %d steps, reward %.3f → %.3f, groups filtered %v, %s in %.0fs\n",
		sum.Iterations, perEpoch, sum.Steps, sum.FirstReward, sum.LastReward, sum.Filtered, final, sum.Seconds)
	return sum, nil
}

// interruptedSimRL handles Ctrl-C during an iteration: when the iteration
// had not changed the weights yet (generation, reward and log-prob passes
// are most of its time), the state from before it is checkpointed, so a
// resumed run redoes exactly that iteration.
func interruptedSimRL(t *grpo.Trainer, before grpo.State, stepBefore, lastSaved int, save func() error, log io.Writer, cause error) error {
	if t.Opt.Step != stepBefore || before.Iteration == lastSaved {
		return fmt.Errorf("interrupted in iteration %d; the last checkpoint is at iteration %d: %w", before.Iteration+1, lastSaved, cause)
	}
	t.State = before
	if err := save(); err != nil {
		// E.g. a micro-batch's gradient was accumulated: the moments cannot be saved now.
		return fmt.Errorf("interrupted in iteration %d (no checkpoint: %v); the last checkpoint is at iteration %d: %w", before.Iteration+1, err, lastSaved, cause)
	}
	fmt.Fprintf(log, "simrl: interrupted in iteration %d; saved a checkpoint at iteration %d (--resume continues from it)\n", before.Iteration+1, before.Iteration)
	return fmt.Errorf("interrupted in iteration %d, checkpoint at iteration %d: %w", before.Iteration+1, before.Iteration, cause)
}

func filterText(f grpo.Filter) string {
	if !f.On {
		return "off"
	}
	return fmt.Sprintf("%g<mean<%g", f.Low, f.High)
}

// simrlEOS are the ids that end a completion: the model's EOS ids and
// <|im_end|> (the chat turn's end).
func simrlEOS(dir string, tok *tokenizer.Tokenizer) []int {
	var ids []int
	if cfg, err := model.ReadConfig(dir); err == nil {
		if gen, err := model.ReadGenerationConfig(dir, cfg); err == nil {
			ids = append(ids, gen.EOSTokenIDs...)
		}
	}
	if id, ok := tok.TokenID("<|im_end|>"); ok {
		ids = append(ids, id)
	}
	if id, ok := tok.EOS(); ok {
		ids = append(ids, id)
	}
	return ids
}

// readSimRLPrompts reads {id, inputs, targets} records: inputs is the
// templated prompt (ending in the assistant turn), targets the label.
// Malformed records and prompts over maxLen tokens go to rejects.
// check, if set, vets each record's prompt and label for the reward.
func readSimRLPrompts(path string, tok *tokenizer.Tokenizer, maxLen int, check func(prompt, label string) error, rejects *jsonl.Rejects) ([]*grpo.Prompt, error) {
	rd, err := jsonl.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var out []*grpo.Prompt
	for rd.Next() {
		p, err := simrlPrompt(rd.Bytes(), tok, maxLen)
		if err == nil && check != nil {
			err = check(p.Text, p.Label)
		}
		if err != nil {
			if err := rejects.Add(rd.Wrap(err), rd.Bytes()); err != nil {
				return nil, err
			}
			continue
		}
		if p.ID == "" {
			p.ID = fmt.Sprintf("%s:%d", filepath.Base(path), rd.Line())
		}
		out = append(out, p)
	}
	return out, rd.Err()
}

func simrlPrompt(raw []byte, tok *tokenizer.Tokenizer, maxLen int) (*grpo.Prompt, error) {
	var r struct {
		ID      json.RawMessage `json:"id"`
		Inputs  *string         `json:"inputs"`
		Targets *string         `json:"targets"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, jsonl.Errorf("", "not a JSON object with string inputs and targets: %v", err)
	}
	switch {
	case r.Inputs == nil:
		return nil, jsonl.Errorf("inputs", "missing")
	case r.Targets == nil:
		return nil, jsonl.Errorf("targets", "missing")
	case *r.Inputs == "":
		return nil, jsonl.Errorf("inputs", "empty")
	}
	ids := tok.Encode(*r.Inputs)
	if len(ids) > maxLen {
		return nil, jsonl.Errorf("inputs", "prompt of %d tokens is over the %d-token limit", len(ids), maxLen)
	}
	id := string(bytes.Trim(r.ID, `"`))
	return &grpo.Prompt{ID: id, Text: *r.Inputs, Label: *r.Targets, Tokens: ids}, nil
}

// builtinCheck rejects a record the Sim-RL reward would fail on (a label
// without exactly one </think>, a malformed <tools> block) before training
// starts rather than in the middle of it.
func builtinCheck(prompt, label string) error {
	_, err := reward.Score(prompt, label, "")
	var ie *reward.InputError
	if errors.As(err, &ie) {
		field := map[string]string{"label": "targets", "prompt": "inputs"}[ie.Field]
		return jsonl.Errorf(field, "the Sim-RL reward cannot use it: %s", ie.Msg)
	}
	if err != nil {
		return jsonl.Errorf("", "the Sim-RL reward cannot use it: %v", err)
	}
	return nil
}

// trimSimRLMetrics drops metrics lines of iterations after the newest
// checkpoint: an iteration without an optimizer step shares its step number
// with the checkpoint before it, which the step-based trim would keep.
func trimSimRLMetrics(dir string) error {
	ck, ok, err := Latest(dir)
	if err != nil || !ok {
		return err
	}
	st, err := ReadState(ck.Dir)
	if err != nil {
		return err
	}
	var extra simrlExtra
	if json.Unmarshal(st.Extra, &extra) != nil {
		return nil // not a Sim-RL checkpoint; Open refuses or trims by step
	}
	path := filepath.Join(dir, MetricsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var keep bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		var line struct {
			Iteration *int `json:"iteration"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || (line.Iteration != nil && *line.Iteration > extra.GRPO.Iteration) {
			continue
		}
		keep.Write(sc.Bytes())
		keep.WriteByte('\n')
	}
	if keep.Len() == len(b) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, keep.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
