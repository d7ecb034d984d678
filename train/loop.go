package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/progress"
	"github.com/star-go/star/model"
)

// Config holds a supervised run's settings (SFT and CKD). Zero values are
// filled by Defaults.
type Config struct {
	Kind     string // "sft" or "ckd"
	Model    string // initial model directory
	Data     string // training JSONL
	RunDir   string
	Rejects  string // rejects file ("" keeps counts only)
	Backend  string // compute backend ("" = default)
	Resume   bool
	Command  []string
	Steps    int // optimizer steps; 0: Epochs × (records / BatchSize)
	Epochs   int
	Seed     uint64
	MaxLen   int
	Batch    int // sequences per optimizer step (global batch)
	MicroTok int // padded tokens per micro-batch (gradient accumulation up to Batch)

	LR, WarmupRatio, MinLRRatio, WeightDecay float64
	Beta1, Beta2, ClipNorm                   float64

	SaveEvery    int // checkpoint every N steps (0: none but final)
	Keep         int // keep the newest N checkpoints (0: all)
	SaveDType    string
	EvalData     string
	EvalFraction float64
	EvalEvery    int // eval every N steps (0: at the end only)
	// MaxNonFinite consecutive non-finite steps stop the run.
	MaxNonFinite int
	// Progress receives the progress bar (nil: stderr).
	Progress io.Writer `json:"-"`
	// Extra holds the objective's settings, recorded in run.json.
	Extra map[string]any
	// Plot writes RUN_DIR/curves.png at the end (nil: none).
	Plot func(runDirs []string, out string) error `json:"-"`
}

// Defaults fills unset fields with OpenRLHF's defaults (train_sft.py /
// train_kd.py): lr 5e-6, warm-up 3%, cosine to 0.1·lr, weight decay 0, betas
// (0.9, 0.95), clipping 1.0, global batch 128, max_len 2048, seed 42,
// 2 epochs (SFT) or 1 (KD).
func (c *Config) Defaults() {
	setF := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	setI := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setF(&c.LR, 5e-6)
	setF(&c.WarmupRatio, 0.03)
	setF(&c.MinLRRatio, 0.1)
	setF(&c.Beta1, 0.9)
	setF(&c.Beta2, 0.95)
	setF(&c.ClipNorm, 1.0)
	setI(&c.Batch, 128)
	setI(&c.MaxLen, 2048)
	setI(&c.MicroTok, 2048)
	setI(&c.MaxNonFinite, 3)
	if c.Epochs == 0 && c.Steps == 0 {
		c.Epochs = 2
		if c.Kind == "ckd" {
			c.Epochs = 1
		}
	}
	if c.Seed == 0 {
		c.Seed = 42
	}
}

// Objective is what a trainer plugs into the loop: it turns a micro-batch
// into the engine's loss (CE for SFT, CKD with the teacher's top-k) for the
// student m.
type Objective interface {
	Build(ctx context.Context, m *model.Model, mb []*Example) (model.Objective, error)
}

// Summary is what a finished run reports.
type Summary struct {
	Steps, Skipped  int
	FirstLoss, Loss float64
	EvalLoss        float64 // NaN when there is no eval set
	Tokens          int64
	Seconds         float64
	Final           string
	Data, Eval      DataStats
}

// NonFiniteStop is the error when too many steps in a row were not finite.
type NonFiniteStop struct {
	Steps []int
	Last  error
}

func (e *NonFiniteStop) Error() string {
	return fmt.Sprintf("stopped: %d non-finite steps in a row (steps %v); nothing new was saved; last: %v", len(e.Steps), e.Steps, e.Last)
}

// Train runs a supervised training loop with obj on cfg's data and writes
// the run directory. log receives the settings, warnings and the summary;
// the progress bar goes to stderr.
func Train(ctx context.Context, cfg Config, obj Objective, log io.Writer) (*Summary, error) {
	cfg.Defaults()
	if cfg.Batch < 1 || cfg.MicroTok < 2 || cfg.Steps < 0 || cfg.Epochs < 0 {
		return nil, fmt.Errorf("batch size %d, micro-batch tokens %d, steps %d, epochs %d: must be positive", cfg.Batch, cfg.MicroTok, cfg.Steps, cfg.Epochs)
	}
	if cfg.EvalFraction < 0 || cfg.EvalFraction >= 1 {
		return nil, fmt.Errorf("--eval-fraction %g: want 0 ≤ f < 1", cfg.EvalFraction)
	}
	mcfg, err := model.ReadConfig(cfg.Model)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", cfg.Model, err)
	}
	rejects, err := jsonl.NewRejects(cfg.Rejects)
	if err != nil {
		return nil, err
	}
	defer rejects.Close()
	dopt := DataOptions{ModelDir: cfg.Model, Vocab: mcfg.VocabSize, MaxLen: cfg.MaxLen}
	examples, dstats, err := ReadExamples(cfg.Data, dopt, rejects)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Data: dstats, EvalLoss: math.NaN()}
	var evalSet []*Example
	switch {
	case cfg.EvalData != "":
		if evalSet, sum.Eval, err = ReadExamples(cfg.EvalData, dopt, rejects); err != nil {
			return nil, err
		}
	case cfg.EvalFraction > 0:
		examples, evalSet = holdOut(examples, cfg.EvalFraction, cfg.Seed)
	}
	if len(examples) == 0 {
		return nil, fmt.Errorf("%s: no usable training records (%s)", cfg.Data, rejects.Summary())
	}
	if cfg.Batch > len(examples) {
		fmt.Fprintf(log, "note: --batch-size %d > %d records: using %d\n", cfg.Batch, len(examples), len(examples))
		cfg.Batch = len(examples)
	}
	stepsPerEpoch := len(examples) / cfg.Batch
	total := cfg.Steps
	if total == 0 {
		total = cfg.Epochs * stepsPerEpoch
	}
	sched := model.Schedule{LR: cfg.LR, MinLR: cfg.LR * cfg.MinLRRatio,
		WarmupSteps: int(math.Ceil(cfg.WarmupRatio * float64(total))), TotalSteps: total}
	opt := model.AdamW{Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: 1e-8, WeightDecay: cfg.WeightDecay, ClipNorm: cfg.ClipNorm}

	info := Info{Kind: cfg.Kind, Command: cfg.Command, Model: cfg.Model, Hyper: hyper(cfg, total, sched), Data: map[string]string{}}
	for _, f := range []string{cfg.Data, cfg.EvalData} {
		if f != "" && f != "-" {
			if info.Data[f], err = HashFile(f); err != nil {
				return nil, err
			}
		}
	}
	run, err := Open(cfg.RunDir, info, cfg.Resume)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	run.Keep = cfg.Keep

	var tr *model.Trainer
	cur := Cursor{}
	if run.From != nil {
		var st *State
		if tr, st, err = Restore(*run.From); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(st.Cursor, &cur); err != nil {
			return nil, fmt.Errorf("%s: cursor: %w", run.From.Dir, err)
		}
		if st.Schedule != sched || st.AdamW != opt {
			fmt.Fprintf(log, "note: resuming with the checkpoint's schedule %+v and optimizer %+v\n", st.Schedule, st.AdamW)
		}
		total = tr.Sched.TotalSteps
		fmt.Fprintf(log, "resuming %s from step %d (epoch %d, batch %d)\n", cfg.RunDir, tr.Step, cur.Epoch, cur.Batch)
	} else {
		m, err := model.Load(cfg.Model)
		if err != nil {
			return nil, err
		}
		tr = model.NewTrainer(m, opt, sched)
	}
	if cfg.Backend != "" {
		e, err := model.NewEngine(cfg.Backend)
		if err != nil {
			return nil, err
		}
		tr.M.Use(e)
	}
	printSettings(log, cfg, total, stepsPerEpoch, len(examples), len(evalSet), dstats, rejects)

	pw := cfg.Progress
	if pw == nil {
		pw = os.Stderr
	}
	bar := progress.NewWriter(pw, cfg.Kind, int64(total-tr.Step), "step")
	defer bar.Finish()
	start := time.Now()
	var failed []int
	var lastErr error
	lastSaved := tr.Step
	evalAt := func() error {
		if len(evalSet) == 0 {
			return nil
		}
		l, err := evaluate(ctx, tr.M, obj, evalSet, cfg.MicroTok, nil)
		if err != nil {
			return fmt.Errorf("eval at step %d: %w", tr.Step, err)
		}
		sum.EvalLoss = l
		return run.Log(map[string]any{"step": tr.Step, "split": "eval", "loss": l})
	}
	first := true
	for tr.Step < total {
		if err := ctx.Err(); err != nil {
			return nil, interrupted(run, tr, cur, lastSaved, log, err)
		}
		batch := GlobalBatch(examples, cfg.Batch, cfg.Seed, cur)
		t0 := time.Now()
		res, err := runStep(ctx, tr, obj, batch, cfg.MicroTok)
		var nf *model.NonFiniteError
		switch {
		case errors.As(err, &nf):
			cur = cur.next(stepsPerEpoch)
			failed = append(failed, tr.Step+1)
			sum.Skipped++
			lastErr = err
			fmt.Fprintf(log, "\nwarning: step %d skipped: %v\n", tr.Step+1, err)
			if len(failed) > cfg.MaxNonFinite {
				return nil, &NonFiniteStop{Steps: failed, Last: lastErr}
			}
			continue
		case err != nil && ctx.Err() != nil:
			return nil, interrupted(run, tr, cur, lastSaved, log, ctx.Err())
		case err != nil:
			return nil, err
		}
		failed = failed[:0]
		cur = cur.next(stepsPerEpoch)
		dt := time.Since(t0).Seconds()
		res.line["epoch"] = float64(tr.Step-1) / float64(stepsPerEpoch)
		res.line["seconds"] = dt
		res.line["tokens_per_s"] = float64(res.tokens) / dt
		if err := run.Log(res.line); err != nil {
			return nil, err
		}
		if first {
			sum.FirstLoss, first = res.loss, false
		}
		sum.Loss, sum.Steps = res.loss, sum.Steps+1
		sum.Tokens += res.tokens
		bar.Note(fmt.Sprintf("step %d/%d loss %.4f %.0f tok/s", tr.Step, total, res.loss, float64(sum.Tokens)/time.Since(start).Seconds()))
		bar.Add(1)
		if cfg.EvalEvery > 0 && tr.Step%cfg.EvalEvery == 0 {
			if err := evalAt(); err != nil {
				return nil, err
			}
		}
		if cfg.SaveEvery > 0 && tr.Step%cfg.SaveEvery == 0 && tr.Step < total {
			if _, err := run.Save(tr, State{Cursor: mustJSON(cur)}); err != nil {
				return nil, err
			}
			lastSaved = tr.Step
		}
	}
	bar.Finish()
	if cfg.EvalEvery == 0 || total%cfg.EvalEvery != 0 {
		if err := evalAt(); err != nil {
			return nil, err
		}
	}
	if sum.Final, err = run.SaveFinal(tr.M, cfg.SaveDType); err != nil {
		return nil, err
	}
	sum.Seconds = time.Since(start).Seconds()
	if err := run.Close(); err != nil {
		return nil, err
	}
	if cfg.Plot != nil {
		if err := cfg.Plot([]string{cfg.RunDir}, filepath.Join(cfg.RunDir, CurvesFile)); err != nil {
			fmt.Fprintf(log, "warning: %s: %v\n", CurvesFile, err)
		}
	}
	fmt.Fprintln(log, sum.line(cfg, rejects))
	return sum, nil
}

// stepResult is one applied step's metrics line and totals.
type stepResult struct {
	line   map[string]any
	loss   float64
	tokens int64
}

// runStep accumulates the gradient of every micro-batch of a global batch
// and applies it. The reported loss and its parts are the micro-batch means
// averaged, as the gradient is.
func runStep(ctx context.Context, tr *model.Trainer, obj Objective, batch []*Example, budget int) (*stepResult, error) {
	mbs := MicroBatches(batch, budget)
	parts := map[string]float64{}
	var loss float64
	var tokens, targets int64
	for _, mb := range mbs {
		if err := ctx.Err(); err != nil {
			tr.Discard()
			return nil, err
		}
		o, err := obj.Build(ctx, tr.M, mb)
		if err != nil {
			tr.Discard()
			return nil, err
		}
		r, err := tr.Accumulate(o)
		if err != nil {
			tr.Discard()
			return nil, err
		}
		loss += r.Loss
		for k, v := range r.Metrics {
			parts[k] += v
		}
		for _, e := range mb {
			tokens += int64(len(e.Seq))
			targets += int64(e.Targets())
		}
	}
	st, err := tr.Apply()
	if err != nil {
		return nil, err
	}
	n := float64(len(mbs))
	line := map[string]any{"step": st.Step, "split": "train", "loss": loss / n, "lr": st.LR, "grad_norm": st.GradNorm,
		"tokens": tokens, "target_tokens": targets, "micro_batches": len(mbs)}
	for k, v := range parts {
		line[k] = v / n
	}
	return &stepResult{line: line, loss: loss / n, tokens: tokens}, nil
}

// evaluate is the mean loss per target token over the eval set (each
// micro-batch's masked mean weighted by its target tokens).
// done, when set, is told how many records each micro-batch held.
func evaluate(ctx context.Context, m *model.Model, obj Objective, set []*Example, budget int, done func(records int)) (float64, error) {
	var sum, w float64
	for _, mb := range MicroBatches(set, budget) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		o, err := obj.Build(ctx, m, mb)
		if err != nil {
			return 0, err
		}
		r, err := m.LossOnly(o)
		if err != nil {
			return 0, err
		}
		n := 0
		for _, e := range mb {
			n += e.Targets()
		}
		sum += r.Loss * float64(n)
		w += float64(n)
		if done != nil {
			done(len(mb))
		}
	}
	return sum / w, nil
}

// interrupted saves a checkpoint at the last completed step (if it is not
// saved yet) so that --resume loses nothing; the in-flight step is dropped.
func interrupted(run *Run, tr *model.Trainer, cur Cursor, lastSaved int, log io.Writer, cause error) error {
	if tr.Step == lastSaved {
		return cause
	}
	dir, err := run.Save(tr, State{Cursor: mustJSON(cur)})
	if err != nil {
		return fmt.Errorf("%w (and the checkpoint at step %d failed: %v)", cause, tr.Step, err)
	}
	fmt.Fprintf(log, "\ninterrupted: saved %s; continue with --resume\n", dir)
	return cause
}

// holdOut moves a seeded random fraction of the examples to an eval set.
func holdOut(ex []*Example, frac float64, seed uint64) (train, eval []*Example) {
	n := int(math.Round(frac * float64(len(ex))))
	if n == 0 && frac > 0 && len(ex) > 1 {
		n = 1
	}
	perm := rand.New(rand.NewPCG(seed, 0x4556414c)).Perm(len(ex)) // "EVAL"
	isEval := make([]bool, len(ex))
	for _, i := range perm[:n] {
		isEval[i] = true
	}
	for i, e := range ex {
		if isEval[i] {
			eval = append(eval, e)
		} else {
			train = append(train, e)
		}
	}
	return train, eval
}

func hyper(c Config, total int, s model.Schedule) map[string]any {
	h := map[string]any{
		"steps": total, "epochs": c.Epochs, "batch_size": c.Batch, "micro_batch_tokens": c.MicroTok,
		"lr": c.LR, "warmup_ratio": c.WarmupRatio, "warmup_steps": s.WarmupSteps, "min_lr": s.MinLR,
		"weight_decay": c.WeightDecay, "adam_betas": []float64{c.Beta1, c.Beta2}, "adam_eps": 1e-8,
		"clip_norm": c.ClipNorm, "max_len": c.MaxLen, "seed": c.Seed, "save_every": c.SaveEvery, "keep_checkpoints": c.Keep,
		"eval_every": c.EvalEvery, "eval_fraction": c.EvalFraction, "lr_scheduler": "cosine_with_min_lr",
	}
	for k, v := range c.Extra {
		h[k] = v
	}
	return h
}

func printSettings(w io.Writer, c Config, total, perEpoch, nTrain, nEval int, st DataStats, rej *jsonl.Rejects) {
	fmt.Fprintf(w, "%s: %s → %s\n", c.Kind, c.Model, c.RunDir)
	fmt.Fprintf(w, "data: %d records, %d used for training, %d for eval, %d truncated to --max-len %d, %s\n",
		st.Records, nTrain, nEval, st.Truncated, c.MaxLen, rej.Summary())
	fmt.Fprintf(w, "steps: %d (%d per epoch) × batch %d sequences, micro-batches ≤ %d padded tokens\n", total, perEpoch, c.Batch, c.MicroTok)
	fmt.Fprintf(w, "optimizer: AdamW lr %g (warm-up %g, cosine to %g×), weight decay %g, betas (%g, %g), clip %g; seed %d\n",
		c.LR, c.WarmupRatio, c.MinLRRatio, c.WeightDecay, c.Beta1, c.Beta2, c.ClipNorm, c.Seed)
}

func (s *Summary) line(c Config, rej *jsonl.Rejects) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d steps", c.Kind, s.Steps)
	if s.Skipped > 0 {
		fmt.Fprintf(&b, " (%d skipped, non-finite)", s.Skipped)
	}
	fmt.Fprintf(&b, " in %s, %.0f tokens/s, loss %.4f → %.4f", time.Duration(s.Seconds*float64(time.Second)).Round(time.Second), float64(s.Tokens)/s.Seconds, s.FirstLoss, s.Loss)
	if !math.IsNaN(s.EvalLoss) {
		fmt.Fprintf(&b, ", eval %.4f", s.EvalLoss)
	}
	fmt.Fprintf(&b, "; %d truncated, %s; model %s", s.Data.Truncated, rej.Summary(), s.Final)
	return b.String()
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
