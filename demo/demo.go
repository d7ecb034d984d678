// Package demo is `star demo`: the whole STAR curriculum, offline, on a
// laptop CPU. A synthetic tool-calling world (package world) and a tokenizer
// learned from it stand in for the public datasets and Qwen3's tokenizer; a
// tiny teacher is trained on the world by SFT; its rollouts distil into a much
// smaller student three ways — SFT on the rollouts, CKD on the teacher's
// top-k, CKD followed by Sim-RL — and every model is scored with the BFCL
// checker on a test split phrased with templates training never saw.
//
// Every stage but the first and the last is a `star` command line, exactly as
// a user would type it: the demo prints each one and report.md lists them, so
// the demo doubles as the curriculum's tutorial. A stage whose output exists
// is skipped, so rerunning after Ctrl-C or a crash resumes; the trainers
// continue from their newest checkpoint (--resume).
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config chooses the demo's directory, seed and size.
type Config struct {
	Dir   string
	Seed  uint64
	Quick bool // the ~2-minute version CI runs
}

// Exec runs one star command line (without the leading "star").
type Exec func(ctx context.Context, args []string) error

// Stage is one step of the curriculum.
type Stage struct {
	Name string // short name: timings, report
	What string // one line for people
	// Args is the star command line that does the stage; Go, when set, is
	// run instead (stages that are not commands: setting up, the report).
	Args []string
	Go   func(ctx context.Context) error
	// Done is a path that exists only when the stage has completed.
	Done string
	// Resume is appended to Args when the stage's run directory already
	// exists (an interrupted trainer continues from its checkpoint).
	Resume     []string
	ResumeFrom string
}

// Arm names: the models the report compares.
const (
	Teacher         = "teacher"
	StudentInit     = "student-init"
	StudentSFT      = "student-sft"
	StudentCKD      = "student-ckd"
	StudentCKDSimRL = "student-ckd-simrl"
)

// Arms lists the evaluated models in report order.
var Arms = []string{Teacher, StudentInit, StudentSFT, StudentCKD, StudentCKDSimRL}

// Path joins elem to the demo directory.
func (c Config) Path(elem ...string) string {
	return filepath.Join(append([]string{c.Dir}, elem...)...)
}

// ModelDir is the checkpoint an arm is evaluated from.
func (c Config) ModelDir(arm string) string {
	switch arm {
	case StudentInit:
		return c.Path("init", "student")
	case Teacher:
		return c.Path("runs", "teacher", "final")
	default:
		return c.Path("runs", arm, "final")
	}
}

// Run executes the stages in order, skipping completed ones, and records the
// wall time of each in DIR/timings.json; then it writes the report and
// prints the results table on out (progress goes to log). It stops at the
// first error; a rerun continues from there.
func Run(ctx context.Context, c Config, exec Exec, out, log io.Writer) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	stages := Stages(c, exec)
	timings := readTimings(c)
	start := time.Now()
	for i, s := range stages {
		prefix := fmt.Sprintf("[%d/%d] %s", i+1, len(stages), s.Name)
		if s.Done != "" && exists(s.Done) {
			fmt.Fprintf(log, "%s: done already (%s), skipped\n", prefix, rel(c, s.Done))
			continue
		}
		fmt.Fprintf(log, "%s: %s\n", prefix, s.What)
		t0 := time.Now()
		var err error
		if s.Go != nil {
			err = s.Go(ctx)
		} else {
			args := s.Args
			if s.ResumeFrom != "" && exists(s.ResumeFrom) {
				args = append(append([]string{}, args...), s.Resume...)
			}
			fmt.Fprintf(log, "  $ star %s\n", strings.Join(args, " "))
			err = exec(ctx, args)
		}
		if err != nil {
			return fmt.Errorf("demo stage %s: %w (rerun `star demo` to continue from here)", s.Name, err)
		}
		timings[s.Name] = time.Since(t0).Seconds()
		if err := writeJSON(c.Path("timings.json"), timings); err != nil {
			return err
		}
		fmt.Fprintf(log, "%s: %.1fs\n", prefix, timings[s.Name])
	}
	fmt.Fprintf(log, "demo: all %d stages done in %s (this run)\n", len(stages), time.Since(start).Round(time.Second))
	r, err := ReadReport(c)
	if err != nil {
		return fmt.Errorf("demo report: %w", err)
	}
	if err := WriteReport(c, r, stages); err != nil {
		return fmt.Errorf("demo report: %w", err)
	}
	fmt.Fprintf(out, "\n%s\nSim-RL mean reward: %.3f (first third) → %.3f (last third of %d iterations)\n",
		r.Table(), r.Reward.First, r.Reward.Last, r.Reward.Iterations)
	fmt.Fprintf(out, "\nreport: %s, %s, %s\n", c.Path("report.md"), c.Path("accuracy.png"), c.Path("curves.png"))
	fmt.Fprintf(out, "serve the student:  star serve --model %s --served-model-name student --addr 127.0.0.1:8080\n", c.ModelDir(StudentCKDSimRL))
	fmt.Fprintf(out, "and ask it:         curl -s 127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' -d @%s\n",
		c.Path("request.json"))
	return writeRequest(c)
}

func readTimings(c Config) map[string]float64 {
	t := map[string]float64{}
	if b, err := os.ReadFile(c.Path("timings.json")); err == nil {
		_ = json.Unmarshal(b, &t) // a damaged file only loses old timings
	}
	return t
}

// writeJSON writes v to path atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(b, '\n'))
}

// writeFile writes b to path through a temporary file and a rename.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}

func rel(c Config, path string) string {
	if r, err := filepath.Rel(c.Dir, path); err == nil {
		return r
	}
	return path
}

// writeRequest writes DIR/request.json: a chat request with one test record's
// tools and question, for the curl line the demo prints.
func writeRequest(c Config) error {
	f, err := os.Open(c.Path("world", "test.jsonl"))
	if err != nil {
		return err
	}
	defer f.Close()
	var rec struct {
		Messages []map[string]any `json:"messages"`
		Tools    []any            `json:"tools"`
	}
	if err := json.NewDecoder(f).Decode(&rec); err != nil {
		return fmt.Errorf("%s: %w", c.Path("world", "test.jsonl"), err)
	}
	msgs := rec.Messages
	if len(msgs) > 1 {
		msgs = msgs[:len(msgs)-1] // drop the answer
	}
	return writeJSON(c.Path("request.json"), map[string]any{"model": "student", "messages": msgs, "tools": rec.Tools, "max_tokens": 256})
}
