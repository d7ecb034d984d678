package main

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

// TestEvalLossCommand: `star eval loss` on the fixture's sequences equals the
// cross-entropy computed from the fixture's float64 reference logits
// (produced outside this project), prompts excluded.
func TestEvalLossCommand(t *testing.T) {
	dir := fixture.Path(t, "fixtures/tiny-qwen3/tied-f32")
	raw, err := os.ReadFile(fixture.Path(t, "fixtures/tiny-qwen3/reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]struct {
		Sequences []struct {
			IDs    []int       `json:"ids"`
			Logits [][]float64 `json:"logits"`
		} `json:"sequences"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "test.jsonl")
	f, err := os.Create(data)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	n := 0
	for _, s := range ref["tied-f32"].Sequences {
		if len(s.IDs) < 2 {
			continue
		}
		p := len(s.IDs) / 3 // prompt: the first third
		line, _ := json.Marshal(map[string]any{"id": len(s.IDs), "input_ids": s.IDs[:p+1], "target_ids": s.IDs[p+1:]})
		f.Write(append(line, '\n'))
		for t := p + 1; t < len(s.IDs); t++ {
			row := s.Logits[t-1]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, v)
			}
			z := 0.0
			for _, v := range row {
				z += math.Exp(v - mx)
			}
			sum += mx + math.Log(z) - row[s.IDs[t]]
			n++
		}
	}
	f.Close()
	want := sum / float64(n)
	out := filepath.Join(t.TempDir(), "loss.json")
	if _, err := runStdout(t, "eval", "loss", "--model", dir, "--data", data, "-o", out); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Loss         float64 `json:"loss"`
		Records      int     `json:"records"`
		TargetTokens int     `json:"target_tokens"`
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Records != 2 || got.TargetTokens != n || math.Abs(got.Loss-want) > 1e-4*want {
		t.Errorf("eval loss: %s; want loss %.6f over 2 records, %d target tokens", b, want, n)
	}
	if _, err := runStdout(t, "eval", "loss", "--model", dir); !errors.Is(err, errUsage) {
		t.Errorf("no --data: want a usage error, got %v", err)
	}
}
