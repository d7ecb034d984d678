package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/model"
	"github.com/star-go/star/train"
)

func init() {
	register(
		command{name: "train sft", summary: "supervised fine-tuning on {inputs, targets} (CE on the targets) → RUN_DIR", run: runTrainSFT},
		command{name: "train ckd", summary: "constrained knowledge distillation from a teacher's top-k (local or STORE) → RUN_DIR", run: runTrainCKD},
		command{name: "teacher topk", summary: "score train data with a teacher (local or an OpenAI-compatible endpoint) → top-k STORE", run: runTeacherTopK},
		command{name: "plot", summary: "PNG line charts of one or more runs' metrics (loss, parts, eval, lr, grad norm)", run: runPlot},
	)
}

// trainFlags are the flags `train sft` and `train ckd` share; defaults are
// OpenRLHF's.
type trainFlags struct {
	cfg      train.Config
	data     *string
	out      *string
	saveType *string
}

func addTrainFlags(fs *flag.FlagSet, epochs int) *trainFlags {
	f := &trainFlags{}
	c := &f.cfg
	fs.StringVar(&c.Model, "model", "", "initial model directory (HF layout; its tokenizer reads text records)")
	f.data = fs.String("data", "", "training JSONL: {id, inputs, targets} or {id, input_ids, target_ids} (also the positional argument)")
	f.out = fs.String("o", "", "run directory (run.json, metrics.jsonl, checkpoints/, final/, curves.png)")
	fs.IntVar(&c.Steps, "steps", 0, "optimizer steps (0: --epochs over the data)")
	fs.IntVar(&c.Epochs, "epochs", epochs, "epochs, when --steps is 0")
	fs.IntVar(&c.Batch, "batch-size", 128, "sequences per optimizer step (the global batch)")
	fs.IntVar(&c.MicroTok, "micro-batch-tokens", 2048, "padded tokens per micro-batch; gradients accumulate up to --batch-size (memory ≈ 35 B × tokens × vocabulary)")
	fs.Float64Var(&c.LR, "lr", 5e-6, "peak learning rate")
	fs.Float64Var(&c.WarmupRatio, "warmup-ratio", 0.03, "linear warm-up over this fraction of the steps")
	fs.Float64Var(&c.MinLRRatio, "min-lr-ratio", 0.1, "cosine decay to this fraction of --lr")
	fs.Float64Var(&c.WeightDecay, "weight-decay", 0, "AdamW decoupled weight decay (not on norms and biases)")
	fs.Float64Var(&c.ClipNorm, "clip", 1.0, "clip the global gradient norm to this")
	fs.IntVar(&c.MaxLen, "max-len", 2048, "cut longer sequences from the right (targets emptied by the cut are rejected)")
	fs.IntVar(&c.SaveEvery, "save-every", 100, "checkpoint every N steps (0: only final/)")
	fs.IntVar(&c.Keep, "keep-checkpoints", 3, "keep the newest N checkpoints (0: all; OpenRLHF's max_ckpt_num)")
	fs.Uint64Var(&c.Seed, "seed", 42, "seed of the data order")
	fs.BoolVar(&c.Resume, "resume", false, "continue RUN_DIR from its newest complete checkpoint")
	fs.StringVar(&c.EvalData, "eval-data", "", "validation JSONL")
	fs.Float64Var(&c.EvalFraction, "eval-fraction", 0, "hold out this fraction of --data for validation (instead of --eval-data)")
	fs.IntVar(&c.EvalEvery, "eval-every", 0, "validation loss every N steps (0: at the end)")
	fs.StringVar(&c.Rejects, "rejects", "", "write unusable records with reasons to this JSONL file")
	fs.StringVar(&c.Backend, "backend", "", "compute backend: go (default) or xla:cuda, ... (also $STAR_BACKEND)")
	f.saveType = fs.String("save-dtype", "f32", "dtype of final/: f32 or bf16 (checkpoints are always f32, for exact resume)")
	return f
}

func (f *trainFlags) config(fs *flag.FlagSet, kind string, args []string) (train.Config, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return train.Config{}, err
	}
	c := f.cfg
	c.Kind, c.Data, c.RunDir = kind, *f.data, *f.out
	if len(pos) == 1 && c.Data == "" {
		c.Data = pos[0]
	} else if len(pos) > 0 {
		return c, fmt.Errorf("%w: unexpected arguments %v", errUsage, pos)
	}
	switch {
	case c.Model == "":
		return c, fmt.Errorf("%w: --model DIR is required", errUsage)
	case c.Data == "":
		return c, fmt.Errorf("%w: --data FILE is required", errUsage)
	case c.RunDir == "":
		return c, fmt.Errorf("%w: -o RUN_DIR is required", errUsage)
	case c.Steps < 0 || c.Epochs < 0 || c.Batch < 1 || c.MicroTok < 2 || c.LR <= 0 || c.MaxLen < 2:
		return c, fmt.Errorf("%w: need --steps ≥ 0, --epochs ≥ 0, --batch-size ≥ 1, --micro-batch-tokens ≥ 2, --lr > 0, --max-len ≥ 2", errUsage)
	case c.Steps == 0 && c.Epochs == 0:
		return c, fmt.Errorf("%w: --steps or --epochs must be positive", errUsage)
	}
	c.SaveDType = map[string]string{"f32": "F32", "bf16": "BF16"}[strings.ToLower(*f.saveType)]
	if c.SaveDType == "" {
		return c, fmt.Errorf("%w: --save-dtype must be f32 or bf16", errUsage)
	}
	c.Command = append(append([]string{"star"}, strings.Fields(kind)...), args...)
	c.Plot = train.Plot
	return c, nil
}

func runTrainSFT(ctx context.Context, args []string) error {
	fs := newFlags("train sft", "--model INIT_DIR --data train.jsonl -o RUN_DIR [--steps N|--epochs E] [--batch-size 128] [--lr 5e-6] [--resume] ...")
	f := addTrainFlags(fs, 2)
	cfg, err := f.config(fs, "train sft", args)
	if err != nil {
		return err
	}
	cfg.Kind = "sft"
	_, err = train.Train(ctx, cfg, train.SFT{}, os.Stderr)
	return err
}

func runTrainCKD(ctx context.Context, args []string) error {
	fs := newFlags("train ckd", "--model STUDENT_DIR (--teacher TEACHER_DIR | --teacher-topk STORE) --data train.jsonl -o RUN_DIR [--topk 100 --tail-lambda 10 --kd fkl|rkl|akl --kd-ratio 1.0] ...")
	f := addTrainFlags(fs, 1)
	teacherDir := fs.String("teacher", "", "teacher model directory, run in this process (no gradients; may be bf16 and larger)")
	storePath := fs.String("teacher-topk", "", "the teacher's top-k STORE written by `star teacher topk`")
	k := fs.Int("topk", 100, "teacher top-k per target position")
	topM := fs.Int("tail-top-m", 0, "the student's top-M tokens for the tail penalty (0: --topk)")
	lambda := fs.Float64("tail-lambda", 10, "weight of the tail penalty (STAR's λ; 0 disables it)")
	kd := fs.String("kd", "fkl", "divergence: fkl (STAR), rkl or akl")
	ratio := fs.Float64("kd-ratio", 1.0, "loss = ratio·KD + (1−ratio)·CE")
	cfg, err := f.config(fs, "train ckd", args)
	if err != nil {
		return err
	}
	cfg.Kind = "ckd"
	switch {
	case (*teacherDir == "") == (*storePath == ""):
		return fmt.Errorf("%w: give one of --teacher DIR or --teacher-topk STORE", errUsage)
	case *k < 1 || *topM < 0 || *ratio < 0 || *ratio > 1:
		return fmt.Errorf("%w: need --topk ≥ 1, --tail-top-m ≥ 0, 0 ≤ --kd-ratio ≤ 1", errUsage)
	case *kd != "fkl" && *kd != "rkl" && *kd != "akl":
		return fmt.Errorf("%w: --kd must be fkl, rkl or akl, not %q", errUsage, *kd)
	}
	if *topM == 0 {
		*topM = *k
	}
	obj := &train.CKD{K: *k, TopM: *topM, TailLambda: *lambda, KL: *kd, KDRatio: *ratio}
	if *teacherDir != "" {
		if err := train.CheckTokenizers(cfg.Model, *teacherDir); err != nil {
			return err
		}
		tm, err := loadModel(*teacherDir, cfg.Backend)
		if err != nil {
			return fmt.Errorf("teacher: %w", err)
		}
		fmt.Fprintf(os.Stderr, "teacher: %s (%d parameters, %s), top-%d in process\n", *teacherDir, tm.Config.NumParams(), tm.DType, *k)
		obj.Teacher = &train.LocalTeacher{M: tm}
		cfg.Extra = map[string]any{"teacher": *teacherDir}
	} else {
		s, err := train.OpenStore(*storePath)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := train.CheckStore(s, cfg.Model); err != nil {
			return err
		}
		if *k > s.Header.K {
			return fmt.Errorf("%w: --topk %d but %s holds k = %d", errUsage, *k, *storePath, s.Header.K)
		}
		fmt.Fprintf(os.Stderr, "teacher: top-%d of %s from %s (%d records)\n", s.Header.K, s.Header.Teacher, *storePath, s.Len())
		obj.Teacher = &train.StoreTeacher{S: s}
		cfg.Extra = map[string]any{"teacher": s.Header.Teacher, "teacher_topk": *storePath, "teacher_topk_header": s.Header}
	}
	for k, v := range map[string]any{"kd": *kd, "topk": *k, "tail_top_m": obj.TopM, "tail_lambda": *lambda, "kd_ratio": *ratio} {
		cfg.Extra[k] = v
	}
	_, err = train.Train(ctx, cfg, obj, os.Stderr)
	return err
}

func runTeacherTopK(ctx context.Context, args []string) error {
	fs := newFlags("teacher topk", "(--teacher DIR | --endpoint URL --served-model NAME) --data train.jsonl -o STORE [-k 100]")
	teacherDir := fs.String("teacher", "", "teacher model directory, run in this process")
	url := fs.String("endpoint", "", "OpenAI-compatible server that scores a sequence (vLLM /v1/completions with prompt_logprobs)")
	served := fs.String("served-model", "", "the model name the endpoint serves")
	apiKey := fs.String("api-key", os.Getenv("OPENAI_API_KEY"), "bearer token for the endpoint ($OPENAI_API_KEY)")
	tokDir := fs.String("tokenizer", "", "directory with tokenizer.json for text records and the store's tokenizer hash (default: --teacher)")
	data := fs.String("data", "", "JSONL records to score (as for train ckd; also the positional argument)")
	out := fs.String("o", "", "the STORE file to write (OUT.partial while running; rerun to resume)")
	k := fs.Int("k", 100, "top-k per target position")
	maxLen := fs.Int("max-len", 2048, "cut longer sequences from the right (use train ckd's --max-len)")
	conc := fs.Int("concurrency", 8, "requests in flight (endpoint)")
	timeout := fs.Duration("timeout", 5*time.Minute, "time limit of one request (endpoint)")
	attempts := fs.Int("max-attempts", 0, "tries per request, with exponential backoff (endpoint; 0: the client's default)")
	rejects := fs.String("rejects", "", "write unusable records with reasons to this JSONL file")
	backend := fs.String("backend", "", "compute backend for --teacher")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 1 && *data == "" {
		*data = pos[0]
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, pos)
	}
	switch {
	case (*teacherDir == "") == (*url == ""):
		return fmt.Errorf("%w: give one of --teacher DIR or --endpoint URL", errUsage)
	case *url != "" && *served == "":
		return fmt.Errorf("%w: --endpoint needs --served-model NAME", errUsage)
	case *data == "" || *out == "":
		return fmt.Errorf("%w: --data FILE and -o STORE are required", errUsage)
	case *k < 1 || *maxLen < 2 || *conc < 1:
		return fmt.Errorf("%w: need -k ≥ 1, --max-len ≥ 2, --concurrency ≥ 1", errUsage)
	}
	job := train.TopKJob{Data: *data, Out: *out, Rejects: *rejects, TokenizerDir: *tokDir, K: *k, MaxLen: *maxLen, Concurrency: *conc}
	var sc train.Scorer
	if *teacherDir != "" {
		m, err := loadModel(*teacherDir, *backend)
		if err != nil {
			return err
		}
		if job.TokenizerDir == "" {
			job.TokenizerDir = *teacherDir
		}
		job.Teacher, job.VocabSize, job.Concurrency = *teacherDir, m.Config.VocabSize, 1 // the engine uses every core
		sc = &train.ModelScorer{M: m}
	} else {
		job.Teacher = *served
		if job.TokenizerDir != "" {
			if c, err := model.ReadConfig(job.TokenizerDir); err == nil {
				job.VocabSize = c.VocabSize
			}
		}
		sc = &train.EndpointScorer{Model: *served, Client: &endpoint.Client{BaseURL: *url, APIKey: *apiKey,
			Concurrency: *conc, Timeout: *timeout, MaxAttempts: *attempts}}
	}
	return train.WriteTopK(ctx, job, sc, os.Stderr)
}

func runPlot(ctx context.Context, args []string) error {
	fs := newFlags("plot", "RUN_DIR... -o curves.png")
	out := fs.String("o", "curves.png", "PNG file to write")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: give one or more run directories", errUsage)
	}
	if err := train.Plot(pos, *out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%d runs)\n", *out, len(pos))
	return nil
}
