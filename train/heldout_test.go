package train

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/model"
)

// TestEvalLoss: the held-out loss equals the mean cross-entropy per target
// token computed in float64 from the model's logits, whatever the
// micro-batch budget; unusable records are rejected with their line.
func TestEvalLoss(t *testing.T) {
	mdir := tinyDir(t, 64, 3)
	data := writeIDs(t, 7, 64, 5)
	m, err := model.Load(mdir)
	if err != nil {
		t.Fatal(err)
	}
	set, _, err := ReadExamples(data, DataOptions{ModelDir: mdir, Vocab: 64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	n := 0
	for _, e := range set {
		logits, err := m.Logits([][]int{e.Seq})
		if err != nil {
			t.Fatal(err)
		}
		for t := e.PromptLen; t < len(e.Seq); t++ {
			row := logits[0][t-1]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, float64(v))
			}
			z := 0.0
			for _, v := range row {
				z += math.Exp(float64(v) - mx)
			}
			sum += mx + math.Log(z) - float64(row[e.Seq[t]])
			n++
		}
	}
	want := sum / float64(n)
	for _, budget := range []int{16, 4096} {
		got, err := EvalLoss(context.Background(), m, mdir, data, 0, budget, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Records != 7 || got.TargetTokens != n || math.Abs(got.Loss-want) > 1e-5*want {
			t.Errorf("budget %d: %+v, want loss %.6f over 7 records and %d target tokens", budget, got, want, n)
		}
	}

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	raw, _ := os.ReadFile(data)
	os.WriteFile(bad, append(raw, []byte(`{"id": "x", "input_ids": [1, 2], "target_ids": [999]}`+"\n")...), 0o644)
	rejPath := filepath.Join(t.TempDir(), "rejects.jsonl")
	rej, err := jsonl.NewRejects(rejPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := EvalLoss(context.Background(), m, mdir, bad, 0, 4096, rej, io.Discard)
	rej.Close()
	if err != nil || got.Records != 7 || got.Rejected != 1 {
		t.Fatalf("with a bad record: %+v, %v; want 7 records and 1 rejected", got, err)
	}
	if b, _ := os.ReadFile(rejPath); !strings.Contains(string(b), "bad.jsonl") || !strings.Contains(string(b), `"line": 8`) {
		t.Errorf("rejects file: %s", b)
	}
}
