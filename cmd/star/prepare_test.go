package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

// TestDataConvertCommands runs convert (with and without the filter), label,
// sample and prepare end to end on the fixtures.
func TestDataConvertCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw := fixture.Path(t, "fixtures/formats/xlam_raw_RECONSTRUCTED.jsonl")
	want, _ := os.ReadFile(fixture.Path(t, "fixtures/formats/xlam_raw_RECONSTRUCTED.expected_messages.jsonl"))
	model := filepath.Dir(fixture.Path(t, "fixtures/qwen3/tokenizer.json"))
	out := filepath.Join(dir, "x.jsonl")
	if rc := run(ctx, []string{"data", "convert", "--format", "xlam", raw, "-o", out, "--no-filter"}); rc != 0 {
		t.Fatalf("convert --no-filter: exit %d", rc)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Error("convert --no-filter output differs from the expected file")
	}
	if rc := run(ctx, []string{"data", "convert", "--format", "xlam", raw, "-o", out}); rc != 2 {
		t.Errorf("convert without --model: exit %d, want 2", rc)
	}
	if rc := run(ctx, []string{"data", "convert", "--format", "xlam", raw, "-o", out, "--model", model}); rc != 0 {
		t.Fatalf("convert: exit %d", rc)
	}
	lab := filepath.Join(dir, "l.jsonl")
	if rc := run(ctx, []string{"data", "label", out, "-o", lab}); rc != 0 {
		t.Fatalf("label: exit %d", rc)
	}
	if got, _ := os.ReadFile(lab); !bytes.Contains(got, []byte(`"labels": [{"index": 1, "turns": 1, "tool_call_num": 2, "tags": ["parallel"]}]`)) {
		t.Error("label output lacks labels")
	}
	smp := filepath.Join(dir, "s.jsonl")
	if rc := run(ctx, []string{"data", "sample", lab, "-o", smp, "-n", "5", "--model", model}); rc != 0 {
		t.Fatalf("sample: exit %d", rc)
	}
	if got, _ := os.ReadFile(smp); bytes.Count(got, []byte("\n")) != 5 {
		t.Errorf("sample wrote %d records", bytes.Count(got, []byte("\n")))
	}
	if rc := run(ctx, []string{"data", "prepare", "../../examples/prepare-fixtures.json", "-o", filepath.Join(dir, "prep")}); rc != 0 {
		t.Fatalf("prepare: exit %d", rc)
	}
	if _, err := os.Stat(filepath.Join(dir, "prep", "report.json")); err != nil {
		t.Error(err)
	}
}
