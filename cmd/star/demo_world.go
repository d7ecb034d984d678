package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/star-go/star/demo/world"
)

func init() {
	register(command{name: "demo world", summary: "write the demo's synthetic tool-calling world (messages + BFCL form, train/rl/test)", run: runDemoWorld})
}

func runDemoWorld(ctx context.Context, args []string) error {
	fs := newFlags("demo world", "-o DIR [--seed S] [--quick] [--train N] [--rl N] [--test N] [--distractors N] [--domains N] [--values N] [--bfcl-tools]")
	out := fs.String("o", "", "output directory")
	seed := fs.Uint64("seed", 1, "random seed (the same seed writes the same files)")
	quick := fs.Bool("quick", false, "the small world of `star demo --quick`")
	train := fs.Int("train", -1, "train records (default: 2000, --quick 300)")
	rl := fs.Int("rl", -1, "RL prompts (default: 400, --quick 64)")
	test := fs.Int("test", -1, "test records (default: 400, --quick 100)")
	distractors := fs.Int("distractors", -1, "extra tools listed in multiple, parallel_multiple and irrelevance cases (default 1)")
	domains := fs.Int("domains", 0, "use only the first N of the 10 domains (an easier world; 0: all)")
	values := fs.Int("values", 0, "draw each parameter from N values, the same in every split (an easier world; 0: unlimited)")
	bfclTools := fs.Bool("bfcl-tools", false, "write the records' tools as BFCL's Qwen prompt shows them (train on what `star eval bfcl` will show)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, pos)
	}
	if *out == "" {
		return fmt.Errorf("%w: -o DIR is required", errUsage)
	}
	cfg := world.Full(*seed)
	if *quick {
		cfg = world.Quick(*seed)
	}
	for _, f := range []struct {
		v   int
		dst *int
	}{{*train, &cfg.Train}, {*rl, &cfg.RL}, {*test, &cfg.Test}, {*distractors, &cfg.Distractors}} {
		if f.v >= 0 {
			*f.dst = f.v
		}
	}
	cfg.BFCLTools = *bfclTools
	cfg.Domains = *domains
	cfg.Values = *values
	w, err := world.Generate(cfg)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := world.Write(*out, w); err != nil {
		return err
	}
	var parts []string
	for _, cs := range world.Cases {
		n := 0
		for _, ex := range w.Test {
			if ex.Case == cs {
				n++
			}
		}
		parts = append(parts, fmt.Sprintf("%s %d", cs, n))
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d tools; train %d, rl %d, test %d (%s); seed %d\n",
		*out, len(w.Tools), len(w.Train), len(w.RL), len(w.Test), strings.Join(parts, ", "), cfg.Seed)
	return nil
}
