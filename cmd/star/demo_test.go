package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/star-go/star/demo"
)

// TestDemoQuick runs `star demo --quick` end to end (a couple of minutes on
// two cores; `make test-demo`, which `make test` runs) and asserts only what
// must hold whatever the seed: the teacher is clearly above the untrained
// student, Sim-RL's mean reward does not fall over its run, and the final
// student is clearly above its initialisation. The margins were checked on
// several seeds (docs/demo.md).
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
		acc[s.Arm] = s.Accuracy()
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
	for _, f := range []string{"report.md", "accuracy.png", "curves.png", "request.json"} {
		if _, err := os.Stat(c.Path(f)); err != nil {
			t.Errorf("demo did not write %s", f)
		}
	}
}
