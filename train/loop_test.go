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
	"testing"

	"github.com/star-go/star/model"
)

// tinyDir writes a random model directory (vocab 64) for loop tests.
func tinyDir(t *testing.T, vocab int, seed uint64) string {
	t.Helper()
	m, err := model.NewRandom(model.NewConfig(vocab, 32, 2, 4, 2, 8, 64, true), seed)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeIDs writes n records of token ids: a prompt of 3–6 tokens and a
// target of 4–9 tokens that follows a fixed pattern (learnable).
func writeIDs(t *testing.T, n, vocab int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	for i := range n {
		in := make([]int, 3+rng.IntN(4))
		for j := range in {
			in[j] = 3 + rng.IntN(vocab-3)
		}
		tg := make([]int, 4+rng.IntN(6))
		for j := range tg {
			tg[j] = 3 + (in[0]+5*j)%(vocab-3)
		}
		line, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("r%d", i), "input_ids": in, "target_ids": tg})
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "data.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readMetrics(t *testing.T, runDir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runDir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("metrics line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestSFTOverfits: a handful of records are learnt — the loss falls by a
// large factor — and the run directory holds what it should.
func TestSFTOverfits(t *testing.T) {
	mdir := tinyDir(t, 64, 1)
	// A template file stands for the tokenizer files copied into every checkpoint.
	os.WriteFile(filepath.Join(mdir, "chat_template.jinja"), []byte("{{ messages }}"), 0o644)
	data := writeIDs(t, 6, 64, 1)
	runDir := filepath.Join(t.TempDir(), "run")
	cfg := Config{Kind: "sft", Model: mdir, Data: data, RunDir: runDir, Steps: 60, Batch: 6, MicroTok: 32,
		LR: 1e-2, EvalFraction: 0, SaveEvery: 10, Keep: 2, Command: []string{"test"}, Plot: Plot}
	sum, err := Train(context.Background(), cfg, SFT{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Steps != 60 || !(sum.Loss < sum.FirstLoss/8) {
		t.Fatalf("steps %d, loss %.4f → %.4f: did not overfit", sum.Steps, sum.FirstLoss, sum.Loss)
	}
	lines := readMetrics(t, runDir)
	if len(lines) != 60 || lines[0]["step"] != 1.0 || lines[59]["step"] != 60.0 {
		t.Fatalf("%d metrics lines, first %v", len(lines), lines[0])
	}
	if mb := lines[0]["micro_batches"].(float64); mb < 2 {
		t.Errorf("a 32-token budget should split 6 sequences into micro-batches, got %v", mb)
	}
	for _, f := range []string{"final/config.json", "final/model.safetensors", "final/generation_config.json",
		"checkpoints/step-50/" + StateFile, "checkpoints/step-50/" + MomentsFile, "checkpoints/step-50/chat_template.jinja",
		"final/chat_template.jinja", RunFile, CurvesFile} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := model.Load(filepath.Join(runDir, "final")); err != nil {
		t.Error(err)
	}
	if cks, _ := Checkpoints(runDir); len(cks) != 2 || cks[0].Step != 40 || cks[1].Step != 50 {
		t.Errorf("kept checkpoints %v, want steps 40 and 50", cks)
	}
	// Two runs side by side.
	out := filepath.Join(t.TempDir(), "both.png")
	if err := Plot([]string{runDir, runDir}, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil || len(b) < 10000 || string(b[1:4]) != "PNG" {
		t.Errorf("plot: %d bytes, %v", len(b), err)
	}
}

// TestResumeBitIdentical: N steps straight and N/2 steps, a stop, and a
// resume for the rest give bitwise-identical weights.
func TestResumeBitIdentical(t *testing.T) {
	mdir := tinyDir(t, 64, 2)
	data := writeIDs(t, 10, 64, 2)
	base := Config{Kind: "sft", Model: mdir, Data: data, Steps: 8, Batch: 4, MicroTok: 40, LR: 3e-3, WeightDecay: 0.1, EvalFraction: 0.2}
	straight := base
	straight.RunDir = filepath.Join(t.TempDir(), "a")
	if _, err := Train(context.Background(), straight, SFT{}, io.Discard); err != nil {
		t.Fatal(err)
	}
	// The second run stops after step 4 (its checkpoint), as if killed.
	split := base
	split.RunDir = filepath.Join(t.TempDir(), "b")
	split.SaveEvery = 4
	ctx, cancel := context.WithCancel(context.Background())
	split.Plot = nil
	stopAt4 := &stopAfter{SFT: SFT{}, cancel: cancel, dir: filepath.Join(split.RunDir, CheckpointsDir, "step-4")}
	if _, err := Train(ctx, split, stopAt4, io.Discard); err == nil {
		t.Fatal("interrupted run returned no error")
	}
	if _, err := os.Stat(filepath.Join(split.RunDir, FinalDir)); err == nil {
		t.Fatal("interrupted run wrote final/")
	}
	ck, ok, _ := Latest(split.RunDir)
	if !ok || ck.Step != 4 {
		t.Fatalf("latest checkpoint %+v", ck)
	}
	split.Resume = true
	if _, err := Train(context.Background(), split, SFT{}, io.Discard); err != nil {
		t.Fatal(err)
	}
	a, err := model.Load(filepath.Join(straight.RunDir, FinalDir))
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Load(filepath.Join(split.RunDir, FinalDir))
	if err != nil {
		t.Fatal(err)
	}
	sameWeights(t, weights(t, a), weights(t, b))
	// The metrics of the resumed run continue where the checkpoint left off.
	var steps []int
	for _, l := range readMetrics(t, split.RunDir) {
		if l["split"] == "train" {
			steps = append(steps, int(l["step"].(float64)))
		}
	}
	if fmt.Sprint(steps) != "[1 2 3 4 5 6 7 8]" {
		t.Errorf("train steps logged %v", steps)
	}
}

// stopAfter cancels the run once a checkpoint directory exists.
type stopAfter struct {
	SFT
	cancel context.CancelFunc
	dir    string
}

func (s *stopAfter) Build(ctx context.Context, m *model.Model, mb []*Example) (model.Objective, error) {
	if _, err := os.Stat(s.dir); err == nil {
		s.cancel()
		return nil, ctx.Err()
	}
	return s.SFT.Build(ctx, m, mb)
}

// nanObjective has a non-finite loss on every step after the first.
type nanObjective struct {
	SFT
	n int
}

func (o *nanObjective) Build(ctx context.Context, m *model.Model, mb []*Example) (model.Objective, error) {
	o.n++
	obj, _ := o.SFT.Build(ctx, m, mb)
	if o.n > 1 {
		// A CKD objective whose teacher log-probs are NaN.
		ce := obj.(*model.CrossEntropy)
		var vals [][][]float32
		var ids [][][]int
		for _, s := range ce.Seqs {
			var vr [][]float32
			var ir [][]int
			for range len(s) - 1 {
				vr = append(vr, []float32{float32(math.NaN())})
				ir = append(ir, []int{0})
			}
			vals, ids = append(vals, vr), append(ids, ir)
		}
		return &model.CKD{Seqs: ce.Seqs, Mask: ce.Mask, TeacherLogprobs: vals, TeacherIDs: ids, KLType: "fkl", KDRatio: 1}, nil
	}
	return obj, nil
}

// TestNonFiniteStops: non-finite steps are skipped with a warning naming
// the step; more than MaxNonFinite in a row stop the run, saving nothing.
func TestNonFiniteStops(t *testing.T) {
	mdir := tinyDir(t, 64, 3)
	data := writeIDs(t, 4, 64, 3)
	runDir := filepath.Join(t.TempDir(), "run")
	var log strings.Builder
	_, err := Train(context.Background(), Config{Kind: "sft", Model: mdir, Data: data, RunDir: runDir, Steps: 10, Batch: 2,
		LR: 1e-3, SaveEvery: 1, MaxNonFinite: 2}, &nanObjective{}, &log)
	var stop *NonFiniteStop
	if !errors.As(err, &stop) || len(stop.Steps) != 3 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(log.String(), "warning: step 2 skipped") {
		t.Errorf("log: %s", log.String())
	}
	ck, _, _ := Latest(runDir)
	if ck.Step != 1 {
		t.Errorf("checkpoints after the non-finite steps: latest %d", ck.Step)
	}
	if _, err := os.Stat(filepath.Join(runDir, FinalDir)); err == nil {
		t.Error("final/ written")
	}
}
