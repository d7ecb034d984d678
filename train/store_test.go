package train

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFloat16: every half survives a round trip, and float32 → half rounds
// to the nearest half (ties to even), checked in float64.
func TestFloat16(t *testing.T) {
	var halves []float64
	for h := range 1 << 16 {
		f := float32From16(uint16(h))
		if math.IsNaN(float64(f)) {
			if g := float16(f); g&0x7c00 != 0x7c00 || g&0x3ff == 0 {
				t.Fatalf("NaN %#x → %#x", h, g)
			}
			continue
		}
		if g := float16(f); g != uint16(h) {
			t.Fatalf("half %#x → %v → %#x", h, f, g)
		}
		if h < 0x7c00 {
			halves = append(halves, float64(f))
		}
	}
	// Positive finite halves ascend with their bits; check rounding of
	// values between neighbours, including the exact midpoints.
	for i := 0; i+1 < len(halves); i += 97 {
		a, b := halves[i], halves[i+1]
		for _, x := range []float64{a + (b-a)*0.25, (a + b) / 2, a + (b-a)*0.75} {
			got := float64(float32From16(float16(float32(x))))
			want := a
			if x-a > b-x || (x-a == b-x && uint16(i+1)&1 == 0) {
				want = b
			}
			if float64(float32(x)) != x {
				continue // not representable in float32: skip
			}
			if got != want {
				t.Fatalf("%v (between %v and %v) → %v, want %v", x, a, b, got, want)
			}
		}
	}
	if float16(70000) != 0x7c00 || float16(-1e-10) != 0x8000 {
		t.Error("overflow or underflow")
	}
}

func testRecord(key uint64, id string, n, k int) *StoreRecord {
	r := &StoreRecord{Key: key, ID: id, First: 3}
	for i := range n * k {
		r.IDs = append(r.IDs, int32(i*7%1000))
		r.Vals = append(r.Vals, -float32(i)/8) // exact in float16
	}
	return r
}

func TestStoreRoundTripAndResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "topk.bin")
	h := StoreHeader{Teacher: "t", K: 4, VocabSize: 1000, Tokenizer: "abc", Data: "d", DataSHA256: "ff", MaxLen: 64}
	sw, err := CreateStore(path, h)
	if err != nil {
		t.Fatal(err)
	}
	sw.Add(testRecord(10, "a", 3, 4))
	sw.Add(testRecord(5, "b", 1, 4))
	if err := sw.Abort(); err != nil {
		t.Fatal(err)
	}
	// A record torn by a kill mid-write.
	f, _ := os.OpenFile(path+".partial", os.O_APPEND|os.O_WRONLY, 0)
	f.Write(encodeRecord(nil, testRecord(99, "torn", 2, 4), 4)[:30])
	f.Close()
	if _, err := OpenStore(path); err == nil || !strings.Contains(err.Error(), "not finished") {
		t.Errorf("open unfinished: %v", err)
	}
	other := h
	other.K = 8
	if _, err := CreateStore(path, other); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("resume with another k: %v", err)
	}
	sw, err = CreateStore(path, h)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Len() != 2 || !sw.Has(10) || !sw.Has(5) || sw.Has(99) {
		t.Fatalf("resumed with %d records", sw.Len())
	}
	sw.Add(testRecord(99, "c", 2, 4))
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != 3 || s.Header.Teacher != "t" || s.Header.ValueDType != "f16" {
		t.Fatalf("store %d records, header %+v", s.Len(), s.Header)
	}
	for _, want := range []*StoreRecord{testRecord(10, "a", 3, 4), testRecord(5, "b", 1, 4), testRecord(99, "c", 2, 4)} {
		got, err := s.Get(want.Key)
		if err != nil || got == nil {
			t.Fatalf("get %d: %v %v", want.Key, got, err)
		}
		if got.ID != want.ID || got.First != 3 || !slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.Vals, want.Vals) {
			t.Errorf("record %d: %+v", want.Key, got)
		}
	}
	if r, err := s.Get(12345); r != nil || err != nil {
		t.Errorf("absent key: %v %v", r, err)
	}
	// A truncated store is refused.
	b, _ := os.ReadFile(path)
	bad := filepath.Join(t.TempDir(), "bad.bin")
	os.WriteFile(bad, b[:len(b)-5], 0o644)
	if _, err := OpenStore(bad); err == nil || !strings.Contains(err.Error(), "truncated or corrupt") {
		t.Errorf("truncated store: %v", err)
	}
	os.WriteFile(bad, []byte("{\"json\": true}\n"), 0o644)
	if _, err := OpenStore(bad); err == nil || !strings.Contains(err.Error(), "not a top-k store") {
		t.Errorf("json as store: %v", err)
	}
}
