package prepare

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

// TestFixturesConfig runs examples/prepare-fixtures.json twice and checks
// the outputs are identical and consistent.
func TestFixturesConfig(t *testing.T) {
	fixture.Path(t, "fixtures/qwen3/tokenizer.json")
	cfg, err := Load("../../examples/prepare-fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	a, b := t.TempDir(), t.TempDir()
	rep, err := Run(context.Background(), cfg, a, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, b, nil); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(a, "*"))
	if len(files) != 3+2*len(cfg.Sources) {
		t.Errorf("%d files: %v", len(files), files)
	}
	for _, f := range files {
		x, _ := os.ReadFile(f)
		y, err := os.ReadFile(filepath.Join(b, filepath.Base(f)))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs", filepath.Base(f))
		}
	}
	n, _ := rep.Get("train_records")
	train, _ := os.ReadFile(filepath.Join(a, "train.jsonl"))
	lines := strings.Split(strings.TrimSpace(string(train)), "\n")
	if int64(len(lines)) != n.(int64) || len(lines) < 60 {
		t.Errorf("train.jsonl has %d lines, report says %v", len(lines), n)
	}
	row, err := pyjson.UnmarshalString(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	if keys := row.(*pyjson.Object).Keys(); strings.Join(keys, ",") != "id,inputs,targets" {
		t.Errorf("train row keys %v", keys)
	}
	rj, _ := os.ReadFile(filepath.Join(a, "report.json"))
	if !strings.Contains(string(rj), "no usable assistant turn") {
		t.Errorf("report lacks the toolace reject:\n%s", rj)
	}
	t.Logf("report.json:\n%s", rj)
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ cfg, want string }{
		{`[]`, "config is an array"},
		{`{"sources": [{"format": "xlam", "path": "x"}]}`, "model: missing"},
		{`{"model": "m"}`, "sources: missing"},
		{`{"model": "m", "sources": []}`, "sources: is an array, want a non-empty array"},
		{`{"model": "m", "seed": "42", "sources": [{"format": "xlam", "path": "x"}]}`, "seed: is '42'"},
		{`{"model": "m", "sources": [{"format": "csv", "path": "x"}]}`, `sources[0].format: unknown format "csv"`},
		{`{"model": "m", "sources": [{"format": "xlam"}]}`, "sources[0].path: missing"},
		{`{"model": "m", "sources": [{"format": "xlam", "path": "x", "sample": -1}]}`, "sources[0].sample: is -1"},
		{`{"model": "m", "sources": [{"format": "xlam", "path": "x", "size": 1}]}`, "sources[0].size: unknown field"},
		{`{"model": "m", "sources": [{"format": "xlam", "path": "x"}, {"format": "xlam", "path": "y"}]}`, `sources[1].name: "xlam" used twice`},
		{`{"model": "m", "modle": 1, "sources": []}`, "modle: unknown field"},
	} {
		p := filepath.Join(t.TempDir(), "c.json")
		os.WriteFile(p, []byte(c.cfg), 0o644)
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.cfg, err, c.want)
		}
	}
}
