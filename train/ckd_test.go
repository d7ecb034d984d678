package train

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
)

type ckdFixture struct {
	CKD struct {
		Sequences [][]int `json:"sequences"`
		PromptLen []int   `json:"prompt_len"`
		Cases     []struct {
			K        int     `json:"k"`
			KLType   string  `json:"kl_type"`
			L1Coef   float64 `json:"l1_coef"`
			M        int     `json:"m"`
			KDRatio  float64 `json:"kd_ratio"`
			Loss     float64 `json:"loss"`
			GradNorm float64 `json:"grad_norm"`
		} `json:"cases"`
	} `json:"ckd"`
}

// fixtureCKD writes the losses.json CKD batch as token-id records.
func fixtureCKD(t *testing.T) (*ckdFixture, string) {
	t.Helper()
	b, err := os.ReadFile(fixture.Path(t, "fixtures/tiny-qwen3/losses.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f ckdFixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for i, s := range f.CKD.Sequences {
		p := f.CKD.PromptLen[i]
		line, _ := json.Marshal(map[string]any{"id": i, "input_ids": s[:p], "target_ids": s[p:]})
		sb.Write(line)
		sb.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "ckd.jsonl")
	os.WriteFile(path, []byte(sb.String()), 0o644)
	return &f, path
}

func firstStep(t *testing.T, runDir string) map[string]any {
	t.Helper()
	for _, l := range readMetrics(t, runDir) {
		if l["split"] == "train" {
			return l
		}
	}
	t.Fatal("no train line")
	return nil
}

// TestCKDFirstStepMatchesReference: the loop's first CKD step on the
// fixture batch has the loss and gradient norm of losses.json (made by an
// independent float64 implementation), for each case; and a STORE made
// from the same teacher gives the same loss to float16 precision.
func TestCKDFirstStepMatchesReference(t *testing.T) {
	f, data := fixtureCKD(t)
	student := fixture.Path(t, "fixtures/tiny-qwen3/tied-f32")
	teacherDir := fixture.Path(t, "fixtures/tiny-qwen3/untied-bf16")
	teacher, err := model.Load(teacherDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTokenizers(student, teacherDir); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "topk.bin")
	if err := WriteTopK(context.Background(), TopKJob{Data: data, Out: store, Teacher: teacherDir, VocabSize: 1000, K: 100, MaxLen: 2048, Concurrency: 2},
		&ModelScorer{M: teacher}, io.Discard); err != nil {
		t.Fatal(err)
	}
	s, err := OpenStore(store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := CheckStore(s, student); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.CKD.Cases {
		cfg := Config{Kind: "ckd", Model: student, Data: data, Steps: 1, Batch: 2, MicroTok: 1 << 16, LR: 1e-3}
		obj := func(src TopKSource) *CKD {
			return &CKD{Teacher: src, K: c.K, TopM: c.M, TailLambda: c.L1Coef, KL: c.KLType, KDRatio: c.KDRatio}
		}
		cfg.RunDir = filepath.Join(t.TempDir(), "local")
		if _, err := Train(context.Background(), cfg, obj(&LocalTeacher{M: teacher}), io.Discard); err != nil {
			t.Fatal(err)
		}
		local := firstStep(t, cfg.RunDir)
		what := c.KLType + " k=" + itoa(c.K)
		if l := local["loss"].(float64); !relClose(l, c.Loss, 1e-4) {
			t.Errorf("%s: first-step loss %.8g, reference %.8g", what, l, c.Loss)
		}
		if g := local["grad_norm"].(float64); !relClose(g, c.GradNorm, 1e-4) {
			t.Errorf("%s: first-step grad norm %.8g, reference %.8g", what, g, c.GradNorm)
		}
		cfg.RunDir = filepath.Join(t.TempDir(), "store")
		if _, err := Train(context.Background(), cfg, obj(&StoreTeacher{S: s}), io.Discard); err != nil {
			t.Fatal(err)
		}
		// float16 keeps 11 significant bits: each teacher log-prob within
		// 2^-11 relative, which moves the loss by well under 1e-3 relative.
		if l, w := firstStep(t, cfg.RunDir)["loss"].(float64), local["loss"].(float64); !relClose(l, w, 1e-3) {
			t.Errorf("%s: loss from the store %.8g, local teacher %.8g", what, l, w)
		}
	}
	// The store holds the local teacher's values rounded to float16.
	ex, _, _ := ReadExamples(data, DataOptions{Vocab: 1000}, nil)
	vals, ids, _ := teacher.TopKLogprobs([][]int{ex[0].Seq}, 100)
	rec, _ := s.Get(ex[0].Key)
	first := ex[0].PromptLen - 1
	for i := range ex[0].Targets() {
		for j := range 100 {
			if int(rec.IDs[i*100+j]) != ids[0][first+i][j] || rec.Vals[i*100+j] != float32From16(float16(vals[0][first+i][j])) {
				t.Fatalf("store row %d entry %d: %d %v, teacher %d %v", i, j, rec.IDs[i*100+j], rec.Vals[i*100+j], ids[0][first+i][j], vals[0][first+i][j])
			}
		}
	}
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), 1e-6)
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
