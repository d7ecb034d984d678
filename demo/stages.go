package demo

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
)

// Sizes are the knobs of one demo size (full or --quick). The student is
// much smaller than the teacher and every student arm starts from the same
// initialisation (StudentInit).
type Sizes struct {
	Vocab int
	// Teacher and Student shapes: hidden, layers, heads, kv heads, head dim, MLP.
	Teacher, Student [6]int
	TeacherEpochs    int
	TeacherLR        string
	CKDPrompts       int // train records the teacher rolls out on
	RolloutN         int
	StudentEpochs    int
	StudentLR        string
	TopK             int
	Batch            int // sequences per optimizer step (SFT, CKD)
	RLBatch          int // prompt groups per Sim-RL iteration
	RLSamples        int
	RLEpisodes       int
	RLLR             string
	RLKL             string // weight of the KL to the starting (CKD) student
	RLPrompts        int    // RL records used (0: all)
	MaxNewTokens     int
	Domains          int // tool domains of the world (0: all)
	TrainRecords     int // records of the train split (0: the world's default)
	Values           int // values per parameter (0: unlimited; see world.Config.Values)
}

// SizesFor returns the full or the quick sizes.
func SizesFor(quick bool) Sizes {
	// Sim-RL's learning rate is the tiny student's, not STAR's 3e-7 for a
	// pretrained 0.6B model: at 1e-4 its reward does not move in 16
	// iterations. At 3e-3 with STAR's KL weight (1e-3) it rises but the
	// student can drift into closing its reasoning over garbage (its test
	// loss rose from 3.7 to 7.9 in one seed); a KL weight of 0.05 to the CKD
	// student keeps it near what it learned (docs/demo.md).
	if quick {
		// In two minutes the teacher learns the format, not yet tool choice
		// (which needs ~450 steps: docs/demo.md, "What a tiny model
		// learns"); the students need ~150 steps to learn the format from
		// its rollouts, so they take several epochs over few records.
		return Sizes{Vocab: 1024, Domains: 3, Values: 8, TrainRecords: 1200,
			Teacher: [6]int{128, 2, 4, 2, 32, 384}, Student: [6]int{64, 2, 2, 1, 32, 192},
			TeacherEpochs: 1, TeacherLR: "5e-3", CKDPrompts: 160, RolloutN: 2,
			StudentEpochs: 8, StudentLR: "5e-3", TopK: 20, Batch: 4,
			RLBatch: 8, RLSamples: 4, RLEpisodes: 2, RLLR: "2e-3", RLKL: "0.05", RLPrompts: 48, MaxNewTokens: 96}
	}
	// The teacher's 1,500 steps over distinct records are what it needs to
	// choose tools well from scratch (docs/demo.md, "What a tiny model
	// learns, step by step").
	return Sizes{Vocab: 1024, Domains: 3, Values: 8, TrainRecords: 6000,
		Teacher: [6]int{128, 2, 4, 2, 32, 384}, Student: [6]int{64, 2, 2, 1, 32, 192},
		TeacherEpochs: 1, TeacherLR: "5e-3", CKDPrompts: 400, RolloutN: 2,
		StudentEpochs: 4, StudentLR: "5e-3", TopK: 20, Batch: 4,
		RLBatch: 8, RLSamples: 4, RLEpisodes: 2, RLLR: "2e-3", RLKL: "0.05", RLPrompts: 64, MaxNewTokens: 96}
}

func shapeArgs(vocab int, s [6]int) []string {
	a := []string{"--vocab", strconv.Itoa(vocab)}
	for i, name := range []string{"--hidden", "--layers", "--heads", "--kv-heads", "--head-dim", "--intermediate"} {
		a = append(a, name, strconv.Itoa(s[i]))
	}
	return append(a, "--tie")
}

// Stages is the curriculum for c. exec runs the star commands of the Go
// stages that are made of several commands.
func Stages(c Config, exec Exec) []Stage {
	z := SizesFor(c.Quick)
	seed := strconv.FormatUint(c.Seed, 10)
	p := c.Path
	worldArgs := []string{"demo", "world", "-o", p("world"), "--seed", seed, "--bfcl-tools"}
	if c.Quick {
		worldArgs = append(worldArgs, "--quick")
	}
	if z.Domains > 0 {
		worldArgs = append(worldArgs, "--domains", strconv.Itoa(z.Domains))
	}
	if z.Values > 0 {
		worldArgs = append(worldArgs, "--values", strconv.Itoa(z.Values))
	}
	if z.TrainRecords > 0 {
		worldArgs = append(worldArgs, "--train", strconv.Itoa(z.TrainRecords))
	}
	trainArgs := func(kind, init, data, run, epochs, lr string, extra ...string) []string {
		a := []string{"train", kind, "--model", init, "--data", data, "-o", p("runs", run),
			"--epochs", epochs, "--batch-size", strconv.Itoa(z.Batch), "--lr", lr, "--warmup-ratio", "0.05",
			"--max-len", "1024", "--micro-batch-tokens", "4096", "--save-every", "20", "--seed", seed}
		return append(a, extra...)
	}
	resume := func(run string) (string, []string) { return p("runs", run), []string{"--resume"} }

	// trainset writes messages records in as {inputs, targets} to
	// base.star.jsonl (`star data trainset`, STAR's form, inputs ending in
	// "<think>"), then to base.jsonl with that "<think>" moved into the
	// targets (openThink): every model of the demo writes it itself.
	trainset := func(ctx context.Context, in, base, model string, reasoning bool) error {
		a := []string{"data", "trainset", in, "-o", base + ".star.jsonl", "--model", model}
		if reasoning {
			a = append(a, "--reasoning")
		}
		if err := exec(ctx, a); err != nil {
			return err
		}
		return openThink(base+".star.jsonl", base+".jsonl")
	}

	var stages []Stage
	add := func(s Stage) { stages = append(stages, s) }

	add(Stage{Name: "world", What: "a synthetic tool-calling world: train / rl / test splits, BFCL form for the test split",
		Args: worldArgs, Done: p("world", "world.json")})
	add(Stage{Name: "tokenizer", What: "a byte-level BPE tokenizer with Qwen3's special tokens, learned from the train split",
		Args: []string{"tokenizer", "train", p("world", "corpus.jsonl"), "-o", p("tokenizer"), "--vocab-size", strconv.Itoa(z.Vocab), "--separate-space"},
		Done: p("tokenizer", "tokenizer_config.json")})
	add(Stage{Name: "init", What: "random teacher and student (one initialisation shared by every student arm)",
		Go: func(ctx context.Context) error {
			for _, m := range []struct {
				name  string
				shape [6]int
				seed  uint64
			}{{"teacher", z.Teacher, c.Seed}, {"student", z.Student, c.Seed + 1}} {
				a := append([]string{"model", "init"}, shapeArgs(z.Vocab, m.shape)...)
				a = append(a, "--seed", strconv.FormatUint(m.seed, 10), "--tokenizer", p("tokenizer"), "-o", p("init", m.name))
				if err := exec(ctx, a); err != nil {
					return err
				}
			}
			return nil
		}, Done: p("init", "student", "tokenizer_config.json")})
	add(Stage{Name: "trainsets", What: "train, RL and test splits as {inputs, targets} (the train split with its reasoning)",
		Go: func(ctx context.Context) error {
			if err := trainset(ctx, p("world", "train.jsonl"), p("data", "train"), p("init", "teacher"), true); err != nil {
				return err
			}
			if err := headLines(p("world", "train.jsonl"), p("data", "ckd_prompts.jsonl"), z.CKDPrompts); err != nil {
				return err
			}
			if err := headLines(p("world", "rl.jsonl"), p("data", "rl_messages.jsonl"), z.RLPrompts); err != nil {
				return err
			}
			// The test split as {inputs, targets}: the labels of the report's
			// reward and the references of its held-out loss.
			if err := trainset(ctx, p("world", "test.jsonl"), p("data", "test"), p("init", "student"), true); err != nil {
				return err
			}
			// Sim-RL's prompts end where evaluation's do, before "<think>",
			// so the student practises the start it is scored on.
			return trainset(ctx, p("data", "rl_messages.jsonl"), p("data", "rl"), p("init", "student"), false)
		}, Done: p("data", "rl.jsonl")})
	from, more := resume("teacher")
	add(Stage{Name: "teacher", What: "the teacher: SFT of the larger model on the train split",
		Args: trainArgs("sft", p("init", "teacher"), p("data", "train.jsonl"), "teacher", strconv.Itoa(z.TeacherEpochs), z.TeacherLR),
		Done: p("runs", "teacher", "final", "config.json"), ResumeFrom: from, Resume: more})
	add(Stage{Name: "rollout", What: "teacher rollouts on the CKD prompts (STAR-SPEC §5: n samples, validated, deduplicated)",
		Go: func(ctx context.Context) error {
			out := p("data", "rollouts.jsonl")
			a := []string{"rollout", p("data", "ckd_prompts.jsonl"), "-o", out + ".part", "--teacher", c.ModelDir(Teacher),
				"-n", strconv.Itoa(z.RolloutN), "--temperature", "1.0", "--max-tokens", strconv.Itoa(z.MaxNewTokens * 2),
				"--seed", seed, "--rejects", p("data", "rollouts.rejects.jsonl")}
			if exists(out + ".part") {
				a = append(a, "--resume")
			}
			if err := exec(ctx, a); err != nil {
				return err
			}
			return os.Rename(out+".part", out)
		}, Done: p("data", "rollouts.jsonl")})
	add(Stage{Name: "kd-data", What: "rollouts as a train set with the teacher's reasoning, and the teacher's top-k on it",
		Go: func(ctx context.Context) error {
			if err := trainset(ctx, p("data", "rollouts.jsonl"), p("data", "kd"), p("init", "student"), true); err != nil {
				return err
			}
			return exec(ctx, []string{"teacher", "topk", "--teacher", c.ModelDir(Teacher), "--data", p("data", "kd.jsonl"),
				"-o", p("data", "kd.topk"), "-k", strconv.Itoa(z.TopK)})
		}, Done: p("data", "kd.topk")})
	studentEpochs := strconv.Itoa(z.StudentEpochs)
	from, more = resume(StudentSFT)
	add(Stage{Name: StudentSFT, What: "arm (a): the student by SFT on the teacher's rollouts (the usual distillation baseline)",
		Args: trainArgs("sft", p("init", "student"), p("data", "kd.jsonl"), StudentSFT, studentEpochs, z.StudentLR),
		Done: p("runs", StudentSFT, "final", "config.json"), ResumeFrom: from, Resume: more})
	from, more = resume(StudentCKD)
	add(Stage{Name: StudentCKD, What: "arm (b): the student by CKD on the same rollouts (teacher top-k, forward KL + tail penalty)",
		Args: trainArgs("ckd", p("init", "student"), p("data", "kd.jsonl"), StudentCKD, studentEpochs, z.StudentLR,
			"--teacher-topk", p("data", "kd.topk"), "--topk", strconv.Itoa(z.TopK)),
		Done: p("runs", StudentCKD, "final", "config.json"), ResumeFrom: from, Resume: more})
	from, more = resume(StudentCKDSimRL)
	add(Stage{Name: StudentCKDSimRL, What: "arm (c): arm (b) polished by Sim-RL (GRPO with the similarity reward) on the RL split",
		Args: []string{"train", "simrl", "--model", c.ModelDir(StudentCKD), "--data", p("data", "rl.jsonl"), "-o", p("runs", StudentCKDSimRL),
			"--n-samples", strconv.Itoa(z.RLSamples), "--rollout-batch", strconv.Itoa(z.RLBatch), "--episodes", strconv.Itoa(z.RLEpisodes),
			"--max-new-tokens", strconv.Itoa(z.MaxNewTokens), "--lr", z.RLLR, "--kl-coef", z.RLKL, "--save-every", "2", "--seed", seed,
			// A small student rarely gets a call fully right, so STAR's
			// filter (0.01 < group mean < 0.99) would drop nearly every group;
			// the similarity reward still ranks its samples, and a group
			// whose samples tie has no advantage to learn from anyway.
			"--filter", "off"},
		Done: p("runs", StudentCKDSimRL, "final", "config.json"), ResumeFrom: from, Resume: more})
	for _, arm := range Arms {
		add(Stage{Name: "eval " + arm, What: "BFCL checker on the held-out test split: " + arm,
			Args: []string{"eval", "bfcl", "run", "--data", p("world", "bfcl"), "--model", c.ModelDir(arm), "-o", p("eval", arm),
				"--max-new-tokens", strconv.Itoa(2 * z.MaxNewTokens), "--concurrency", "32"},
			Done: p("eval", arm, "summary.json"), ResumeFrom: p("eval", arm, "responses.jsonl"), Resume: []string{"--resume"}})
		add(Stage{Name: "loss " + arm, What: "held-out loss of the test split's reference answers: " + arm,
			Args: []string{"eval", "loss", "--model", c.ModelDir(arm), "--data", p("data", "test.jsonl"), "-o", p("eval", arm, "loss.json")},
			Done: p("eval", arm, "loss.json")})
	}
	add(Stage{Name: "curves", What: "every training curve in one picture",
		Args: []string{"plot", p("runs", "teacher"), p("runs", StudentSFT), p("runs", StudentCKD), p("runs", StudentCKDSimRL), "-o", p("curves.png")},
		Done: p("curves.png")})
	return stages
}

// openThink moves the "<think>" that ends every STAR train-set input to the
// front of its target, so the demo's from-scratch models learn to open their
// reasoning themselves, as pretrained Qwen3 models do. Without it they would
// only ever have seen "<think>" as given, and the prompts that rollout,
// evaluation and serving send (ending at "<|im_start|>assistant\n") would
// be new to them.
func openThink(in, out string) error {
	var b []byte
	err := eachLine(in, func(line []byte) error {
		var r map[string]any
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		inputs, _ := r["inputs"].(string)
		targets, _ := r["targets"].(string)
		if s, ok := strings.CutSuffix(inputs, "<think>"); ok {
			r["inputs"], r["targets"] = s, "<think>"+targets
		}
		j, err := json.Marshal(r)
		b = append(append(b, j...), '\n')
		return err
	})
	if err != nil {
		return err
	}
	return writeFile(out, b)
}

// headLines copies the first n lines of in to out (all when n ≤ 0).
func headLines(in, out string, n int) error {
	var b []byte
	k := 0
	err := eachLine(in, func(line []byte) error {
		if n > 0 && k == n {
			return errStop
		}
		k++
		b = append(append(b, line...), '\n')
		return nil
	})
	if err != nil {
		return err
	}
	return writeFile(out, b)
}
