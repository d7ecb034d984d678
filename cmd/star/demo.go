package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/star-go/star/demo"
)

func init() {
	register(command{name: "demo", summary: "the whole STAR curriculum offline on this CPU: world, teacher, rollouts, SFT/CKD/Sim-RL students, BFCL table", run: runDemo})
}

func runDemo(ctx context.Context, args []string) error {
	fs := newFlags("demo", "[-o DIR] [--quick] [--seed S]")
	out := fs.String("o", "star-demo", "directory for every stage's output (rerun to resume)")
	quick := fs.Bool("quick", false, "the small version (about 2 minutes on 2 cores; what CI runs)")
	seed := fs.Uint64("seed", 1, "seed of the world, the initialisations, data order and sampling")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, pos)
	}
	// The stages' own reports (eval tables, summaries) go to stderr with their
	// progress; stdout gets only the demo's results table.
	stdout := os.Stdout
	os.Stdout = os.Stderr
	defer func() { os.Stdout = stdout }()
	return demo.Run(ctx, demo.Config{Dir: *out, Seed: *seed, Quick: *quick}, runCommand, stdout, os.Stderr)
}

// runCommand runs a star command line in this process, as the demo's stages do.
func runCommand(ctx context.Context, args []string) error {
	c, rest := lookup(args)
	if c == nil {
		return fmt.Errorf("no command %q", strings.Join(args, " "))
	}
	if err := c.run(ctx, rest); err != nil {
		return fmt.Errorf("star %s: %w", c.name, err)
	}
	return nil
}
