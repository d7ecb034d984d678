package eval

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeGen echoes the job id; ids listed in fail get an inference error.
type fakeGen struct {
	fail  map[string]bool
	calls atomic.Int64
}

func (f *fakeGen) Workers() int { return 3 }
func (f *fakeGen) Batch() int   { return 2 }
func (f *fakeGen) Generate(ctx context.Context, jobs []Job) []Output {
	out := make([]Output, len(jobs))
	for i, j := range jobs {
		f.calls.Add(1)
		if f.fail[j.ID] {
			out[i].Err = errors.New("boom")
		} else {
			out[i].Text = "answer " + j.ID
		}
	}
	return out
}

func TestRunWritesAndResumes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "responses.jsonl")
	var jobs []Job
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		jobs = append(jobs, Job{ID: id, Prompt: "p"})
	}
	gen := &fakeGen{fail: map[string]bool{"c": true}}
	if err := Run(context.Background(), jobs, gen, RunOptions{Path: path, Row: Row}); err != nil {
		t.Fatal(err)
	}
	rows, err := ReadResponses(path, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		want := "answer " + r.ID
		if r.ID == "c" {
			want = "Error during inference: boom"
		}
		if r.Result != want {
			t.Errorf("%s: %v", r.ID, r.Result)
		}
	}
	// Without --resume an existing file is not overwritten.
	if err := Run(context.Background(), jobs, gen, RunOptions{Path: path, Row: Row}); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("rerun without resume: %v", err)
	}
	// A torn last line (an interrupted write) is dropped; the failed id and
	// the torn one are generated again, the others are not.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id": "x", "res`)
	f.Close()
	gen2 := &fakeGen{}
	if err := Run(context.Background(), append(jobs, Job{ID: "x"}), gen2, RunOptions{Path: path, Resume: true, Row: Row}); err != nil {
		t.Fatal(err)
	}
	if n := gen2.calls.Load(); n != 2 {
		t.Errorf("resume generated %d items, want 2 (c, x)", n)
	}
	rows, err = ReadResponses(path, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, r := range rows {
		if _, dup := got[r.ID]; dup {
			t.Errorf("%s written twice", r.ID)
		}
		got[r.ID] = r.Result
	}
	if len(got) != 6 || got["c"] != "answer c" || got["x"] != "answer x" {
		t.Errorf("after resume: %v", got)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "r.jsonl")
	err := Run(ctx, []Job{{ID: "a"}, {ID: "b"}}, &fakeGen{}, RunOptions{Path: path, Row: Row})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
