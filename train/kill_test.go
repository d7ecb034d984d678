package train

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/star-go/star/model"
)

// killChildEnv carries the child's Config (as JSON) to the re-executed test
// binary.
const killChildEnv = "STAR_TRAIN_KILL_CHILD"

// slowSFT is SFT with a pause per micro-batch, so the parent can kill the
// child mid-run; the numbers are those of SFT.
type slowSFT struct{ SFT }

func (s slowSFT) Build(ctx context.Context, m *model.Model, mb []*Example) (model.Objective, error) {
	time.Sleep(15 * time.Millisecond)
	return s.SFT.Build(ctx, m, mb)
}

// TestKillAndResume runs training in a child process, SIGKILLs it after a
// few checkpoints, checks that every checkpoint that looks complete is,
// resumes, and compares the final weights with an uninterrupted run.
func TestKillAndResume(t *testing.T) {
	if js := os.Getenv(killChildEnv); js != "" {
		var cfg Config
		if err := json.Unmarshal([]byte(js), &cfg); err != nil {
			t.Fatal(err)
		}
		Train(context.Background(), cfg, slowSFT{}, io.Discard)
		return
	}
	mdir := tinyDir(t, 64, 7)
	data := writeIDs(t, 12, 64, 7)
	cfg := Config{Kind: "sft", Model: mdir, Data: data, Steps: 40, Batch: 4, MicroTok: 40, LR: 3e-3, SaveEvery: 2}
	cfg.RunDir = filepath.Join(t.TempDir(), "killed")
	js, _ := json.Marshal(cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillAndResume$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+string(js))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if ck, ok, _ := Latest(cfg.RunDir); ok && ck.Step >= 6 {
			time.Sleep(35 * time.Millisecond) // into the next step (a micro-batch takes 15 ms)
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child made no checkpoint in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(cfg.RunDir, FinalDir)); err == nil {
		t.Fatal("the child finished before it was killed")
	}
	cks, err := Checkpoints(cfg.RunDir)
	if err != nil || len(cks) < 3 {
		t.Fatalf("checkpoints %v %v", cks, err)
	}
	for _, ck := range cks {
		if _, _, err := Restore(ck); err != nil {
			t.Errorf("checkpoint %s looks complete but is not: %v", ck.Dir, err)
		}
	}
	cfg.Resume = true
	if _, err := Train(context.Background(), cfg, SFT{}, io.Discard); err != nil {
		t.Fatal(err)
	}
	straight := cfg
	straight.Resume, straight.RunDir = false, filepath.Join(t.TempDir(), "straight")
	if _, err := Train(context.Background(), straight, SFT{}, io.Discard); err != nil {
		t.Fatal(err)
	}
	a, err := model.Load(filepath.Join(cfg.RunDir, FinalDir))
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Load(filepath.Join(straight.RunDir, FinalDir))
	if err != nil {
		t.Fatal(err)
	}
	sameWeights(t, weights(t, a), weights(t, b))
}
