package safetensors

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEncodeParse(t *testing.T) {
	a, _ := FromFloat32("b.weight", F32, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	b, _ := FromFloat32("a.weight", BF16, []int{3}, []float32{1, -2, 0.5})
	buf, err := Encode([]Tensor{a, b}, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(buf)
	if (8+n)%8 != 0 {
		t.Errorf("data not 8-byte aligned: header %d", n)
	}
	h := string(buf[8 : 8+n])
	if !strings.HasPrefix(h, `{"__metadata__":{"format":"pt"},"a.weight":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}`) {
		t.Errorf("header %q", h)
	}
	if strings.TrimRight(h, " ") != h[:strings.LastIndex(h, "}")+1] {
		t.Errorf("padding is not spaces: %q", h)
	}
	f, err := Parse(buf)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := f.Tensors["a.weight"].ToFloat32()
	w, _ := f.Tensors["b.weight"].ToFloat32()
	if v[1] != -2 || v[2] != 0.5 || w[5] != 6 || f.Metadata["format"] != "pt" {
		t.Errorf("values %v %v meta %v", v, w, f.Metadata)
	}
	// Atomic write then read back.
	p := filepath.Join(t.TempDir(), "x.safetensors")
	if err := WriteFile(p, []Tensor{a}, nil); err != nil {
		t.Fatal(err)
	}
	if g, err := ReadFile(p); err != nil || len(g.Tensors) != 1 {
		t.Fatalf("read back: %v", err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
}

func TestParseErrors(t *testing.T) {
	a, _ := FromFloat32("w", F32, []int{4}, []float32{1, 2, 3, 4})
	good, _ := Encode([]Tensor{a}, nil)
	n := binary.LittleEndian.Uint64(good)
	bad := func(name string, buf []byte, want string) {
		if _, err := Parse(buf); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
	}
	bad("short", good[:5], "truncated")
	bad("truncated header", good[:8+n-2], "truncated")
	bad("truncated data", good[:len(good)-1], "truncated")
	huge := append([]byte(nil), good...)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	bad("huge header", huge, "header length")
	mismatch := []byte(strings.Replace(string(good), `"shape":[4]`, `"shape":[5]`, 1))
	bad("shape vs offsets", mismatch, `tensor "w"`)
}
