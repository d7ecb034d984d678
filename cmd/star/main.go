// Command star is the STAR curriculum in one binary: data preparation, chat
// templating and tokenization, teacher rollouts, CKD and Sim-RL training,
// evaluation, serving and the reward service. Each subcommand is a thin layer
// over the package that does the work; see docs/ARCHITECTURE.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// command is one subcommand. name is its words as typed ("data trainset").
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

// commands lists every subcommand; each file registers its own in init.
var commands []command

func register(cs ...command) { commands = append(commands, cs...) }

// errUsage marks an error caused by how the command was called (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(os.Stdout)
		return 0
	}
	c, rest := lookup(args)
	if c == nil {
		fmt.Fprintf(os.Stderr, "star: unknown command %q\n\n", strings.Join(args, " "))
		usage(os.Stderr)
		return 2
	}
	err := c.run(ctx, rest)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "star %s: %v\n", c.name, err)
		return 2
	case ctx.Err() != nil:
		fmt.Fprintf(os.Stderr, "star %s: interrupted: %v\n", c.name, err)
		return 130
	default:
		fmt.Fprintf(os.Stderr, "star %s: %v\n", c.name, err)
		return 1
	}
}

// lookup finds the command whose words are the longest prefix of args.
func lookup(args []string) (*command, []string) {
	var best *command
	bestLen := 0
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(words) > len(args) || len(words) <= bestLen {
			continue
		}
		match := true
		for j, w := range words {
			if args[j] != w {
				match = false
				break
			}
		}
		if match {
			best, bestLen = &commands[i], len(words)
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, args[bestLen:]
}

func usage(w *os.File) {
	fmt.Fprintln(w, "star — distil a tool-calling teacher into a tiny student (CKD + Sim-RL)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: star <command> [flags] [args]   (star <command> -h for its flags)")
	fmt.Fprintln(w)
	sorted := slices.Clone(commands)
	slices.SortStableFunc(sorted, func(a, b command) int { return stage(a.name) - stage(b.name) })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-22s %s\n", c.name, c.summary)
	}
}

// pipeline is the order `star help` lists command groups in.
var pipeline = []string{"demo", "data", "chat", "tokenize", "tokenizer", "rollout", "teacher", "train", "plot", "reward", "eval", "serve", "export", "model", "bench"}

func stage(name string) int {
	group, _, _ := strings.Cut(name, " ")
	if i := slices.Index(pipeline, group); i >= 0 {
		return i
	}
	return len(pipeline)
}

// newFlags returns a flag set for command name that prints its usage line.
func newFlags(name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet("star "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: star %s %s\n", name, usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args allowing flags after positional arguments
// (`star data trainset IN -o OUT`), which the flag package alone does not.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
