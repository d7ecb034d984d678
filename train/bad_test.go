package train

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
)

// TestTextRecords: {id, inputs, targets} are tokenized with the model
// directory's tokenizer into the ids the fixture's reference tokenizer gave.
func TestTextRecords(t *testing.T) {
	qwen := fixture.Path(t, "fixtures/qwen3")
	f, err := os.Open(filepath.Join(qwen, "trainset.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var text strings.Builder
	var want [][2][]int
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() && len(want) < 12 {
		var r struct {
			ID        string `json:"id"`
			Inputs    string `json:"inputs"`
			Targets   string `json:"targets"`
			InputIDs  []int  `json:"input_ids"`
			TargetIDs []int  `json:"target_ids"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		line, _ := json.Marshal(map[string]string{"id": r.ID, "inputs": r.Inputs, "targets": r.Targets})
		text.Write(append(line, '\n'))
		want = append(want, [2][]int{r.InputIDs, r.TargetIDs})
	}
	path := filepath.Join(t.TempDir(), "text.jsonl")
	os.WriteFile(path, []byte(text.String()), 0o644)
	ex, st, err := ReadExamples(path, DataOptions{ModelDir: qwen, Vocab: 151936}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != len(want) || st.Rejected != 0 {
		t.Fatalf("%d examples, %d rejected", len(ex), st.Rejected)
	}
	for i, e := range ex {
		if !slices.Equal(e.Seq[:e.PromptLen], want[i][0]) || !slices.Equal(e.Seq[e.PromptLen:], want[i][1]) {
			t.Errorf("record %s: tokens differ from the fixture's input_ids/target_ids", e.ID)
		}
		if e.Key != SeqKey(want[i][0], want[i][1]) {
			t.Errorf("record %s: key differs from the token-id record's", e.ID)
		}
	}
	// Without a tokenizer, text records are a fatal error naming the file.
	_, _, err = ReadExamples(path, DataOptions{ModelDir: t.TempDir(), Vocab: 151936}, nil)
	if !errors.Is(err, ErrNoTokenizer) || !strings.Contains(err.Error(), "tokenizer.json") || !strings.Contains(err.Error(), "text.jsonl:1") {
		t.Errorf("missing tokenizer: %v", err)
	}
}

// TestBadRecordsRejected: each kind of unusable record goes to the rejects
// file with its line and field; training goes on with the rest.
func TestBadRecordsRejected(t *testing.T) {
	mdir := tinyDir(t, 64, 4)
	lines := []string{
		`{"id": "ok1", "input_ids": [5, 6, 7], "target_ids": [8, 9]}`,
		`{"id": "broken", "input_ids": [5, 6`,
		`{"id": "none"}`,
		`{"id": "big", "input_ids": [5, 600], "target_ids": [8]}`,
		`{"id": "empty", "input_ids": [5], "target_ids": []}`,
		`{"id": "long", "input_ids": [1,2,3,4,5,6,7,8,9,10,11,12], "target_ids": [8]}`,
		`{"id": "type", "input_ids": "5 6", "target_ids": [8]}`,
		`{"id": "ok2", "input_ids": [5, 6, 7, 8, 9, 10, 11], "target_ids": [8, 9, 10, 11, 12]}`,
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(data, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	rej := filepath.Join(dir, "rejects.jsonl")
	var log strings.Builder
	sum, err := Train(context.Background(), Config{Kind: "sft", Model: mdir, Data: data, RunDir: filepath.Join(dir, "run"), Rejects: rej,
		Steps: 2, Batch: 2, MaxLen: 10, LR: 1e-3}, SFT{}, &log)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Data.Kept != 2 || sum.Data.Rejected != 6 || sum.Data.Truncated != 1 {
		t.Errorf("kept %d rejected %d truncated %d", sum.Data.Kept, sum.Data.Rejected, sum.Data.Truncated)
	}
	b, err := os.ReadFile(rej)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{2: "", 3: "want {id, inputs, targets}", 4: "input_ids: token 600", 5: "targets: empty target",
		6: "targets: empty after --max-len 10", 7: "input_ids"}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct {
			File   string `json:"file"`
			Line   int    `json:"line"`
			Field  string `json:"field"`
			Reason string `json:"reason"`
		}
		json.Unmarshal([]byte(l), &r)
		w, ok := want[r.Line]
		if !ok || r.File != data || !strings.Contains(r.Field+": "+r.Reason, w) {
			t.Errorf("reject %+v (want line in %v containing %q)", r, want, w)
		}
		delete(want, r.Line)
	}
	if len(want) != 0 {
		t.Errorf("not rejected: lines %v", want)
	}
	// Nothing usable at all: an error, and no run directory.
	os.WriteFile(data, []byte(lines[2]+"\n"), 0o644)
	_, err = Train(context.Background(), Config{Kind: "sft", Model: mdir, Data: data, RunDir: filepath.Join(dir, "run2"), Steps: 1}, SFT{}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no usable training records") {
		t.Errorf("all rejected: %v", err)
	}
	if fileExists(filepath.Join(dir, "run2")) {
		t.Error("run directory created for a run that could not start")
	}
}

// TestBadTeacherAndStore: teachers and stores made for another vocabulary
// or tokenizer are refused with both files named; an unwritable RUN_DIR is
// a clear error.
func TestBadTeacherAndStore(t *testing.T) {
	student := tinyDir(t, 64, 1)
	other := tinyDir(t, 80, 1)
	err := CheckTokenizers(student, other)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(other, "config.json")) || !strings.Contains(err.Error(), filepath.Join(student, "config.json")) {
		t.Errorf("teacher with another vocab: %v", err)
	}
	// Same size, different special tokens / vocabulary.
	teacher := tinyDir(t, 64, 2)
	writeTok := func(dir string, special string, extra string) {
		js := `{"model": {"vocab": {"a": 0, "b": 1, "` + extra + `": 2}}, "added_tokens": [{"id": 3, "content": "` + special + `", "special": true}]}`
		os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(js), 0o644)
	}
	writeTok(student, "<|im_end|>", "c")
	writeTok(teacher, "<|endoftext|>", "c")
	if err := CheckTokenizers(student, teacher); err == nil || !strings.Contains(err.Error(), `special token "<|endoftext|>"`) ||
		!strings.Contains(err.Error(), filepath.Join(teacher, "tokenizer.json")) || !strings.Contains(err.Error(), filepath.Join(student, "tokenizer.json")) {
		t.Errorf("special tokens: %v", err)
	}
	writeTok(teacher, "<|im_end|>", "d")
	if err := CheckTokenizers(student, teacher); err == nil || !strings.Contains(err.Error(), "different vocabularies") {
		t.Errorf("vocabulary: %v", err)
	}
	writeTok(teacher, "<|im_end|>", "c")
	if err := CheckTokenizers(student, teacher); err != nil {
		t.Errorf("same tokenizer refused: %v", err)
	}

	// A store from another tokenizer, and one for another vocabulary size.
	data := writeIDs(t, 3, 64, 9)
	tm, _ := model.Load(teacher)
	dir := t.TempDir()
	mk := func(name, tokDir string, vocab int) *Store {
		out := filepath.Join(dir, name)
		if err := WriteTopK(context.Background(), TopKJob{Data: data, Out: out, TokenizerDir: tokDir, Teacher: "t", VocabSize: vocab, K: 4, MaxLen: 64},
			&ModelScorer{M: tm}, io.Discard); err != nil {
			t.Fatal(err)
		}
		s, err := OpenStore(out)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	writeTok(teacher, "<|im_end|>", "d")
	if err := CheckStore(mk("tok.bin", teacher, 64), student); err == nil || !strings.Contains(err.Error(), "another tokenizer") {
		t.Errorf("store from another tokenizer: %v", err)
	}
	if err := CheckStore(mk("vocab.bin", "", 80), student); err == nil || !strings.Contains(err.Error(), "vocabulary of 80") {
		t.Errorf("store for another vocab: %v", err)
	}
	// Records missing from the store.
	s := mk("ok.bin", "", 64)
	os.Remove(filepath.Join(student, "tokenizer.json"))
	_, err = Train(context.Background(), Config{Kind: "ckd", Model: student, Data: writeIDs(t, 3, 64, 10), RunDir: filepath.Join(dir, "run"), Steps: 1},
		&CKD{Teacher: &StoreTeacher{S: s}, K: 4, KL: "fkl", KDRatio: 1}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "is not in") {
		t.Errorf("records not in the store: %v", err)
	}
	if fileExists(filepath.Join(dir, "run", FinalDir)) {
		t.Error("final/ written by a failed run")
	}

	// An unwritable run directory.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	_, err = Train(context.Background(), Config{Kind: "sft", Model: student, Data: data, RunDir: filepath.Join(file, "run"), Steps: 1}, SFT{}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "run directory "+filepath.Join(file, "run")) {
		t.Errorf("unwritable run dir: %v", err)
	}
}
