package model

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/star-go/star/model/safetensors"
)

// copyDir copies a fixture directory so tests can modify it.
func copyDir(t *testing.T, src string) string {
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func sameParams(t *testing.T, a, b *Model) {
	t.Helper()
	if !slices.Equal(a.Names, b.Names) {
		t.Fatalf("names differ")
	}
	for _, n := range a.Names {
		x, _ := a.Float32(n)
		y, _ := b.Float32(n)
		if !slices.Equal(x, y) {
			t.Fatalf("tensor %s differs after round trip", n)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, v := range variants {
		src := copyDir(t, filepath.Join(fixtureDir, v))
		os.WriteFile(filepath.Join(src, "tokenizer.json"), []byte(`{"model":{}}`), 0o644)
		m, err := Load(src)
		if err != nil {
			t.Fatal(err)
		}
		wantDType := map[string]string{"tied-f32": "F32", "untied-bf16": "BF16"}[v]
		if m.DType != wantDType {
			t.Errorf("%s: dtype %s", v, m.DType)
		}
		out := filepath.Join(t.TempDir(), "saved")
		if err := m.Save(out, SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		back, err := Load(out)
		if err != nil {
			t.Fatal(err)
		}
		sameParams(t, m, back)
		for _, f := range []string{"tokenizer.json", "generation_config.json", "config.json"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("%s: %s not written: %v", v, f, err)
			}
		}
		// Same tensors, shapes and dtypes as the HF original.
		orig, _ := safetensors.ReadFile(filepath.Join(src, "model.safetensors"))
		saved, err := safetensors.ReadFile(filepath.Join(out, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(orig.Names(), saved.Names()) {
			t.Errorf("%s: names %v vs %v", v, saved.Names(), orig.Names())
		}
		for n, o := range orig.Tensors {
			s := saved.Tensors[n]
			if s.DType != o.DType || !slices.Equal(s.Shape, o.Shape) || string(s.Data) != string(o.Data) {
				t.Errorf("%s: tensor %s differs from the original file (%s %v)", v, n, s.DType, s.Shape)
			}
		}
		if saved.Metadata["format"] != "pt" {
			t.Errorf("metadata %v", saved.Metadata)
		}
		raw, _ := os.ReadFile(filepath.Join(out, "model.safetensors"))
		n := binary.LittleEndian.Uint64(raw)
		if (8+n)%8 != 0 || !json.Valid(raw[8:8+n]) || raw[8+n-1] != ' ' && raw[8+n-1] != '}' {
			t.Errorf("header of %d bytes not 8-aligned JSON padded with spaces", n)
		}
		// No temporary files are left behind.
		ents, _ := os.ReadDir(out)
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("leftover %s", e.Name())
			}
		}
	}
	// f32 → bf16 → load: equal to rounding each value.
	m := fixtureModel(t, "tied-f32")
	out := t.TempDir()
	if err := m.Save(out, SaveOptions{DType: "BF16"}); err != nil {
		t.Fatal(err)
	}
	back, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := m.Float32("model.norm.weight")
	y, _ := back.Float32("model.norm.weight")
	for i := range x {
		if y[i] != safetensors.BF16ToFloat32(safetensors.Float32ToBF16(x[i])) {
			t.Fatalf("bf16 save: %v → %v", x[i], y[i])
		}
	}
	if back.Config.TorchDType != "bfloat16" || back.DType != "BF16" {
		t.Errorf("bf16 save: torch_dtype %q dtype %s", back.Config.TorchDType, back.DType)
	}
}

func TestShardedRoundTrip(t *testing.T) {
	m := fixtureModel(t, "untied-bf16")
	out := t.TempDir()
	if err := m.Save(out, SaveOptions{DType: "F32", MaxShardBytes: 200_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "model.safetensors.index.json")); err != nil {
		t.Fatal(err)
	}
	shards, _ := filepath.Glob(filepath.Join(out, "model-*-of-*.safetensors"))
	if len(shards) < 2 {
		t.Fatalf("%d shards", len(shards))
	}
	back, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	sameParams(t, m, back)
}

func TestLoadErrors(t *testing.T) {
	src := filepath.Join(fixtureDir, "tied-f32")
	orig, err := safetensors.ReadFile(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var all []safetensors.Tensor
	for _, n := range orig.Names() {
		all = append(all, *orig.Tensors[n])
	}
	write := func(t *testing.T, ts []safetensors.Tensor) string {
		dir := copyDir(t, src)
		if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	expectErr := func(t *testing.T, dir string, parts ...string) {
		t.Helper()
		_, err := Load(dir)
		if err == nil {
			t.Fatalf("no error, want %v", parts)
		}
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not mention %q", err, p)
			}
		}
	}
	t.Run("wrong shape", func(t *testing.T) {
		ts := slices.Clone(all)
		for i := range ts {
			if ts[i].Name == "model.norm.weight" {
				ts[i] = safetensors.Tensor{Name: ts[i].Name, DType: "F32", Shape: []int{32}, Data: ts[i].Data[:128]}
			}
		}
		expectErr(t, write(t, ts), "model.norm.weight", "[64]", "[32]")
	})
	t.Run("missing", func(t *testing.T) {
		var ts []safetensors.Tensor
		for _, x := range all {
			if x.Name != "model.layers.1.mlp.up_proj.weight" {
				ts = append(ts, x)
			}
		}
		expectErr(t, write(t, ts), "missing", "model.layers.1.mlp.up_proj.weight", "[128 64]")
	})
	t.Run("unexpected", func(t *testing.T) {
		ts := append(slices.Clone(all), safetensors.Tensor{Name: "model.layers.7.extra.weight", DType: "F32", Shape: []int{1}, Data: make([]byte, 4)})
		expectErr(t, write(t, ts), "unexpected", "model.layers.7.extra.weight")
	})
	t.Run("truncated", func(t *testing.T) {
		dir := copyDir(t, src)
		p := filepath.Join(dir, "model.safetensors")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-100], 0o644)
		expectErr(t, dir, "truncated")
	})
	t.Run("architecture", func(t *testing.T) {
		dir := copyDir(t, src)
		p := filepath.Join(dir, "config.json")
		b, _ := os.ReadFile(p)
		b = []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "Qwen3ForCausalLM", "LlamaForCausalLM"), `"qwen3"`, `"llama"`))
		os.WriteFile(p, b, 0o644)
		expectErr(t, dir, "unsupported architecture", "LlamaForCausalLM")
	})
	t.Run("bad dtype", func(t *testing.T) {
		ts := slices.Clone(all)
		for i := range ts {
			if ts[i].Name == "model.norm.weight" {
				ts[i] = safetensors.Tensor{Name: ts[i].Name, DType: "I32", Shape: []int{64}, Data: ts[i].Data}
			}
		}
		expectErr(t, write(t, ts), "model.norm.weight", "I32")
	})
}

func TestF16Conversion(t *testing.T) {
	for _, v := range []float32{0, 1, -2.5, 65504, 6.1035156e-05, 5.9604645e-08, 0.1} {
		h := safetensors.Float32ToF16(v)
		back := safetensors.F16ToFloat32(h)
		if d := math.Abs(float64(back - v)); d > math.Abs(float64(v))*1e-3+1e-7 {
			t.Errorf("f16 %v → %#x → %v", v, h, back)
		}
	}
	if safetensors.BF16ToFloat32(safetensors.Float32ToBF16(1.00390625)) != 1 { // tie → even
		t.Errorf("bf16 rounding is not to nearest even")
	}
}

// TestLoadF16: an F16 checkpoint loads (widened to float32) and gives the
// same logits as the F32 original to F16 precision.
func TestLoadF16(t *testing.T) {
	src := filepath.Join(fixtureDir, "tied-f32")
	orig, err := safetensors.ReadFile(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, n := range orig.Names() {
		v, _ := orig.Tensors[n].ToFloat32()
		h, err := safetensors.FromFloat32(n, safetensors.F16, orig.Tensors[n].Shape, v)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, h)
	}
	dir := copyDir(t, src)
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.DType != "F16" {
		t.Errorf("dtype %s", m.DType)
	}
	a, err := m.Logits([][]int{{5, 6, 7}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := fixtureModel(t, "tied-f32").Logits([][]int{{5, 6, 7}})
	for r := range a[0] {
		want := make([]float64, len(b[0][r]))
		for i, v := range b[0][r] {
			want[i] = float64(v)
		}
		if e := rowErr(a[0][r], want); e > 1e-2 {
			t.Errorf("row %d: f16 vs f32 relative error %g", r, e)
		}
	}
}
