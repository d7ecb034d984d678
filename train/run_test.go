package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/star-go/star/model"
)

// tinyModel is a random model small enough for a test step in milliseconds.
func tinyModel(t *testing.T, seed uint64) *model.Model {
	t.Helper()
	m, err := model.NewRandom(model.NewConfig(64, 16, 2, 2, 1, 8, 32, true), seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func step(t *testing.T, tr *model.Trainer, seqs [][]int) {
	t.Helper()
	if _, err := tr.Accumulate(&model.CrossEntropy{Seqs: seqs}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Apply(); err != nil {
		t.Fatal(err)
	}
}

func weights(t *testing.T, m *model.Model) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for _, n := range m.Names {
		v, err := m.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = v
	}
	return out
}

func sameWeights(t *testing.T, a, b map[string][]float32) {
	t.Helper()
	for n, v := range a {
		if !slices.Equal(v, b[n]) {
			t.Fatalf("%s differs", n)
		}
	}
}

// TestCheckpointRoundTrip: a trainer restored from a checkpoint takes the
// same next steps, bit for bit, as the one that wrote it.
func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Info{Kind: "test", Command: []string{"x"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seqs := [][]int{{1, 5, 9, 13, 7}, {2, 4, 6}}
	tr := model.NewTrainer(tinyModel(t, 1), model.DefaultAdamW(0.1), model.CosineSchedule(1e-2, 10))
	step(t, tr, seqs)
	step(t, tr, seqs)
	if _, err := r.Save(tr, State{Cursor: json.RawMessage(`{"epoch":0,"batch":2}`)}); err != nil {
		t.Fatal(err)
	}
	step(t, tr, seqs)
	step(t, tr, seqs)

	ck, ok, err := Latest(dir)
	if err != nil || !ok || ck.Step != 2 {
		t.Fatalf("latest = %+v %v %v", ck, ok, err)
	}
	tr2, st, err := Restore(ck)
	if err != nil {
		t.Fatal(err)
	}
	var cur bytes.Buffer
	json.Compact(&cur, st.Cursor)
	if cur.String() != `{"epoch":0,"batch":2}` || tr2.Step != 2 || tr2.Sched != tr.Sched || tr2.Opt != tr.Opt {
		t.Fatalf("restored state %+v step %d", st, tr2.Step)
	}
	step(t, tr2, seqs)
	step(t, tr2, seqs)
	sameWeights(t, weights(t, tr.M), weights(t, tr2.M))
	for _, f := range []string{"config.json", "model.safetensors", "generation_config.json", MomentsFile, StateFile} {
		if _, err := os.Stat(filepath.Join(ck.Dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestLatestIgnoresPartial: a step-N.tmp (a write killed before its
// rename) or a directory without trainer state never counts as a checkpoint,
// and reopening removes the leftovers.
func TestLatestIgnoresPartial(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Info{Kind: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	tr := model.NewTrainer(tinyModel(t, 1), model.DefaultAdamW(0), model.CosineSchedule(1e-3, 10))
	step(t, tr, [][]int{{1, 2, 3}})
	if _, err := r.Save(tr, State{}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	cks := filepath.Join(dir, CheckpointsDir)
	for _, d := range []string{"step-5.tmp", "step-7"} {
		if err := os.MkdirAll(filepath.Join(cks, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ck, ok, err := Latest(dir)
	if err != nil || !ok || ck.Step != 1 {
		t.Fatalf("latest = %+v %v %v", ck, ok, err)
	}
	r, err = Open(dir, Info{Kind: "test"}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.From == nil || r.From.Step != 1 {
		t.Fatalf("resume from %+v", r.From)
	}
	if _, err := os.Stat(filepath.Join(cks, "step-5.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("step-5.tmp not removed: %v", err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir, Info{Kind: "test", Command: []string{"first"}, Data: map[string]string{"d.jsonl": "aa"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 4; s++ {
		if err := r.Log(map[string]any{"step": s, "loss": 1.0 / float64(s)}); err != nil {
			t.Fatal(err)
		}
	}
	r.Log(map[string]any{"step": 2, "split": "eval", "loss": 0.3})
	if err := r.Log(map[string]any{"step": 3, "split": "eval", "loss": math.NaN()}); err != nil {
		t.Errorf("a NaN eval loss: %v", err)
	}
	r.Close()
	// A torn line from a kill mid-write.
	f, _ := os.OpenFile(filepath.Join(dir, MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"step": 5, "lo`)
	f.Close()

	if _, err := Open(dir, Info{Kind: "test"}, false); !errors.Is(err, ErrRunExists) {
		t.Errorf("fresh run over an existing one: %v", err)
	}
	if _, err := Open(dir, Info{Kind: "test", Data: map[string]string{"d.jsonl": "bb"}}, true); err == nil || !strings.Contains(err.Error(), "d.jsonl changed") {
		t.Errorf("changed data: %v", err)
	}
	// No checkpoint yet: resuming starts over and keeps no metrics.
	r, err = Open(dir, Info{Kind: "test", Command: []string{"second"}, Data: map[string]string{"d.jsonl": "aa"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	b, _ := os.ReadFile(filepath.Join(dir, MetricsFile))
	if len(b) != 0 {
		t.Errorf("metrics after a restart from scratch: %q", b)
	}
	info, err := ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Command[0] != "first" || len(info.Resumed) != 1 || info.Resumed[0].Command[0] != "second" {
		t.Errorf("run.json %+v", info)
	}

	// Truncation keeps steps up to the checkpoint, eval lines included.
	path := filepath.Join(t.TempDir(), MetricsFile)
	os.WriteFile(path, []byte("{\"step\":1}\n{\"step\":2,\"split\":\"eval\"}\n{\"step\":3}\n{\"step\":4"), 0o644)
	if err := truncateMetrics(path, 2); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if string(b) != "{\"step\":1}\n{\"step\":2,\"split\":\"eval\"}\n" {
		t.Errorf("truncated metrics %q", b)
	}
}

func TestOpenUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	_, err := Open(filepath.Join(file, "run"), Info{}, false)
	if err == nil || !strings.Contains(err.Error(), "run directory") {
		t.Errorf("run dir under a file: %v", err)
	}
}
