package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// fixtureDir is the shared tiny Qwen3 fixtures (made by an independent PyTorch implementation).
var fixtureDir = func() string {
	if d := os.Getenv("STAR_SHARED"); d != "" { // as internal/fixture
		return filepath.Join(d, "fixtures", "tiny-qwen3")
	}
	return "../../shared/fixtures/tiny-qwen3"
}()

var variants = []string{"tied-f32", "untied-bf16"}

type refSeq struct {
	IDs      []int       `json:"ids"`
	Logits   [][]float64 `json:"logits"`
	Greedy16 []int       `json:"greedy16"`
}

var loadRef = sync.OnceValues(func() (map[string]struct{ Sequences []refSeq }, error) {
	b, err := os.ReadFile(filepath.Join(fixtureDir, "reference.json"))
	if err != nil {
		return nil, err
	}
	var r map[string]struct{ Sequences []refSeq }
	return r, json.Unmarshal(b, &r)
})

func reference(t testing.TB) map[string]struct{ Sequences []refSeq } {
	t.Helper()
	r, err := loadRef()
	if err != nil {
		t.Fatalf("reference.json: %v", err)
	}
	return r
}

var modelCache sync.Map

// fixtureModel loads a fixture checkpoint once per test binary.
func fixtureModel(t testing.TB, variant string) *Model {
	t.Helper()
	if m, ok := modelCache.Load(variant); ok {
		return m.(*Model)
	}
	m, err := Load(filepath.Join(fixtureDir, variant))
	if err != nil {
		t.Fatalf("load %s: %v", variant, err)
	}
	modelCache.Store(variant, m)
	return m
}

// rowErr is max|a-b| / max|b| over a row.
func rowErr(got []float32, want []float64) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i])-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / scale
}
