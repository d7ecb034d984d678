package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"github.com/star-go/star/demo"
)

// TestDemoQuick runs `star demo --quick` end to end (`make test-demo`, which
// CI runs) and checks that every stage ran and every arm was scored by the
// BFCL checker. With STAR_DEMO_STRICT=1 it also asserts what the curriculum
// should show — the teacher clearly above the untrained student, Sim-RL's
// mean reward not falling, the final student clearly above its
// initialisation. Those do not hold yet at the quick size: the tiny teacher
// learns the format and the tool names but not yet to copy values from the
// request (docs/demo.md, "Results").
func TestDemoQuick(t *testing.T) {
	if os.Getenv("STAR_DEMO") == "" {
		t.Skip("set STAR_DEMO=1 (make test-demo) to run the quick demo")
	}
	dir := os.Getenv("STAR_DEMO_DIR") // keep the output to look at; default: a temp dir
	if dir == "" {
		dir = t.TempDir()
	}
	c := demo.Config{Dir: dir, Seed: 1, Quick: true}
	var out bytes.Buffer
	if err := demo.Run(context.Background(), c, runCommand, &out, os.Stderr); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	r, err := demo.ReadReport(c)
	if err != nil {
		t.Fatal(err)
	}
	acc := map[string]float64{}
	for _, s := range r.Scores {
		total := 0
		for _, n := range s.Total {
			total += n
		}
		if total != 100 {
			t.Errorf("%s: %d test items scored, want the quick world's 100", s.Arm, total)
		}
		acc[s.Arm] = s.Accuracy()
	}
	if len(acc) != len(demo.Arms) {
		t.Errorf("scored arms %v, want %v", acc, demo.Arms)
	}
	for _, f := range []string{"report.md", "accuracy.png", "curves.png", "request.json", "timings.json"} {
		if _, err := os.Stat(c.Path(f)); err != nil {
			t.Errorf("demo did not write %s", f)
		}
	}
	// A rerun skips every stage and reprints the same table.
	var again bytes.Buffer
	if err := demo.Run(context.Background(), c, func(ctx context.Context, args []string) error {
		t.Errorf("rerun ran a stage: star %v", args)
		return nil
	}, &again, io.Discard); err != nil {
		t.Fatal(err)
	}
	if again.String() != out.String() {
		t.Errorf("rerun printed\n%s\nwant\n%s", again.String(), out.String())
	}
	if os.Getenv("STAR_DEMO_STRICT") == "" {
		return
	}
	if acc[demo.Teacher] < acc[demo.StudentInit]+0.3 {
		t.Errorf("teacher %.3f is not clearly above the untrained student %.3f", acc[demo.Teacher], acc[demo.StudentInit])
	}
	if acc[demo.StudentCKDSimRL] < acc[demo.StudentInit]+0.1 {
		t.Errorf("final student %.3f is not clearly above its initialisation %.3f", acc[demo.StudentCKDSimRL], acc[demo.StudentInit])
	}
	if r.Reward.Last < r.Reward.First {
		t.Errorf("Sim-RL mean reward fell: %.3f → %.3f", r.Reward.First, r.Reward.Last)
	}
}
