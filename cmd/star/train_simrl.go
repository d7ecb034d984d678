package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/star-go/star/train"
	"github.com/star-go/star/train/grpo"
)

func init() {
	register(command{name: "train simrl", summary: "Sim-RL: GRPO with the similarity reward, dynamic filtering and k2 KL", run: runTrainSimRL})
}

func runTrainSimRL(ctx context.Context, args []string) error {
	fs := newFlags("train simrl", "--model DIR --data train.jsonl -o RUN_DIR [flags]")
	d := grpo.Defaults()
	o := train.SimRLOptions{GRPO: d}
	fs.StringVar(&o.Model, "model", "", "starting policy: an HF model directory with its tokenizer (required)")
	fs.StringVar(&o.Data, "data", "", "prompts as {id, inputs, targets} JSONL (star data prepare) (required)")
	fs.StringVar(&o.RunDir, "o", "", "run directory (required)")
	fs.StringVar(&o.Ref, "ref", "", "frozen reference policy for the KL term (default: --model)")
	fs.StringVar(&o.Rejects, "rejects", "", "write rejected records with reasons to this JSONL file")
	fs.IntVar(&o.GRPO.N, "n-samples", d.N, "completions per prompt")
	fs.IntVar(&o.GRPO.RolloutBatch, "rollout-batch", d.RolloutBatch, "prompt groups per iteration")
	fs.IntVar(&o.GRPO.TrainBatch, "train-batch", 0, "sequences per optimizer step (0: the whole rollout, one step per iteration)")
	fs.IntVar(&o.GRPO.MicroBatch, "micro-batch", d.MicroBatch, "sequences per forward/backward pass")
	fs.IntVar(&o.GRPO.MicroTokens, "micro-tokens", 4096, "most padded tokens per micro-batch")
	fs.IntVar(&o.GRPO.MicroLogits, "micro-logits", 0, "most rows of logits per micro-batch (0: 2^26/vocab, ~256 MiB)")
	fs.IntVar(&o.GRPO.GenBatch, "gen-batch", d.GenBatch, "sequences generated together")
	fs.BoolVar(&o.GRPO.Continuous, "continuous", d.Continuous, "continuous batching (one prefill per prompt, finished rows replaced at once); =false: fixed batches")
	fs.IntVar(&o.GRPO.MaxNewTokens, "max-new-tokens", d.MaxNewTokens, "completion token limit")
	fs.IntVar(&o.MaxPromptLen, "max-prompt-len", 1024, "longer prompts are rejected")
	fs.Float64Var(&o.GRPO.Temperature, "temperature", d.Temperature, "sampling temperature")
	fs.Float64Var(&o.GRPO.TopP, "top-p", d.TopP, "nucleus sampling mass (1: off)")
	fs.IntVar(&o.GRPO.Episodes, "episodes", d.Episodes, "passes over the prompts")
	fs.Float64Var(&o.LR, "lr", 3e-7, "peak learning rate (cosine to 0.1×, 3% warm-up)")
	fs.Float64Var(&o.GRPO.KLCoef, "kl-coef", d.KLCoef, "weight of the k2 KL against the reference (0: no reference)")
	fs.StringVar(&o.GRPO.Advantage, "advantage", d.Advantage, "group_norm or dr_grpo")
	fs.Float64Var(&o.GRPO.Clip, "clip", d.Clip, "PPO ratio clip ε")
	filter := fs.String("filter", "0.01,0.99", "dynamic filtering bounds LOW,HIGH on the group mean score, or off")
	fs.IntVar(&o.GRPO.MaxRounds, "max-rounds", d.MaxRounds, "generation rounds allowed to fill one rollout batch")
	rewardFlag := fs.String("reward", "builtin", "builtin, or the URL of an OpenRLHF remote reward service (star reward serve)")
	fs.IntVar(&o.SaveEvery, "save-every", 10, "checkpoint every N iterations (0: only at the end)")
	fs.BoolVar(&o.Resume, "resume", false, "continue the run in RUN_DIR from its newest checkpoint")
	seed := fs.Uint64("seed", 42, "seed of the data order and sampling")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || o.Model == "" || o.Data == "" || o.RunDir == "" {
		fs.Usage()
		return fmt.Errorf("%w: need --model, --data and -o, and no positional arguments", errUsage)
	}
	o.GRPO.Seed = *seed
	if o.GRPO.Filter, err = parseFilter(*filter); err != nil {
		return fmt.Errorf("%w: --filter: %v", errUsage, err)
	}
	if *rewardFlag != "builtin" {
		if !strings.HasPrefix(*rewardFlag, "http://") && !strings.HasPrefix(*rewardFlag, "https://") {
			return fmt.Errorf("%w: --reward %q: want builtin or an http(s) URL", errUsage, *rewardFlag)
		}
		o.RewardURL = *rewardFlag
	}
	o.Plot = train.Plot
	o.Command = append([]string{"star", "train", "simrl"}, args...)
	_, err = train.SimRL(ctx, o, os.Stderr)
	return err
}

// parseFilter reads "LOW,HIGH" or "off".
func parseFilter(s string) (grpo.Filter, error) {
	if s == "off" {
		return grpo.Filter{}, nil
	}
	lo, hi, ok := strings.Cut(s, ",")
	if !ok {
		return grpo.Filter{}, fmt.Errorf("%q: want LOW,HIGH or off", s)
	}
	l, err1 := strconv.ParseFloat(strings.TrimSpace(lo), 64)
	h, err2 := strconv.ParseFloat(strings.TrimSpace(hi), 64)
	if err1 != nil || err2 != nil || !(l < h) {
		return grpo.Filter{}, fmt.Errorf("%q: want two numbers LOW,HIGH with LOW < HIGH", s)
	}
	return grpo.Filter{On: true, Low: l, High: h}, nil
}
