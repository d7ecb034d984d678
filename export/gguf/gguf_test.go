package gguf

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestHeaderBytes checks the exact bytes of a small file against the layout
// written out by hand from the GGUF spec.
func TestHeaderBytes(t *testing.T) {
	var buf bytes.Buffer
	gw, err := NewWriter(&buf, []KV{{"a", uint32(7)}, {"s", []string{"xy"}}},
		[]TensorInfo{{Name: "t", Dims: []uint64{3}, Type: F32}})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.WriteTensor([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}); err != nil {
		t.Fatal(err)
	}
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	var want []byte
	u32 := func(v uint32) { want = binary.LittleEndian.AppendUint32(want, v) }
	u64 := func(v uint64) { want = binary.LittleEndian.AppendUint64(want, v) }
	str := func(s string) { u64(uint64(len(s))); want = append(want, s...) }
	want = append(want, 'G', 'G', 'U', 'F')
	u32(3)    // version
	u64(1)    // tensors
	u64(2)    // metadata
	str("a")  // key
	u32(4)    // UINT32
	u32(7)    // value
	str("s")  // key
	u32(9)    // ARRAY
	u32(8)    // of STRING
	u64(1)    // one element
	str("xy") // element
	str("t")  // tensor name
	u32(1)    // n_dims
	u64(3)    // ne[0]
	u32(0)    // F32
	u64(0)    // offset
	for len(want)%32 != 0 {
		want = append(want, 0)
	}
	want = append(want, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
	for len(want)%32 != 0 {
		want = append(want, 0)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("bytes differ:\n got %v\nwant %v", buf.Bytes(), want)
	}
}

// TestRoundTrip writes every metadata type and every tensor type and reads
// them back: values, dims, types, aligned offsets and data.
func TestRoundTrip(t *testing.T) {
	kv := []KV{
		{"general.alignment", uint32(64)},
		{"u8", uint8(250)}, {"i8", int8(-5)}, {"u16", uint16(65000)}, {"i16", int16(-30000)},
		{"u32", uint32(4000000000)}, {"i32", int32(-2000000000)}, {"f32", float32(1.5e-6)},
		{"b", true}, {"s", "héllo\x00 wörld"}, {"u64", uint64(1) << 60}, {"i64", int64(-1) << 60},
		{"f64", math.Pi},
		{"au8", []uint8{1, 2}}, {"ai8", []int8{-1}}, {"au16", []uint16{7}}, {"ai16", []int16{-7}},
		{"au32", []uint32{1, 2, 3}}, {"ai32", []int32{-1, 0, 1}}, {"af32", []float32{0.25}},
		{"ab", []bool{true, false}}, {"as", []string{"", "a b", "Ġx"}}, {"au64", []uint64{9}},
		{"ai64", []int64{-9}}, {"af64", []float64{2.5}}, {"empty", []string{}},
	}
	vals := make([]float32, 64*3)
	for i := range vals {
		vals[i] = float32(math.Sin(float64(i)))
	}
	tensors := []struct {
		info TensorInfo
		n    int
	}{
		{TensorInfo{Name: "a.f32", Dims: []uint64{5}, Type: F32}, 5},
		{TensorInfo{Name: "b.f16", Dims: []uint64{3, 7}, Type: F16}, 21},
		{TensorInfo{Name: "c.bf16", Dims: []uint64{2, 3, 1}, Type: BF16}, 6},
		{TensorInfo{Name: "d.q8", Dims: []uint64{64, 3}, Type: Q8_0}, 192},
	}
	var infos []TensorInfo
	var datas [][]byte
	for _, x := range tensors {
		infos = append(infos, x.info)
		d, err := Encode(vals[:x.n], x.info.Type)
		if err != nil {
			t.Fatal(err)
		}
		datas = append(datas, d)
	}
	var buf bytes.Buffer
	gw, err := NewWriter(&buf, kv, infos)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range datas {
		if err := gw.WriteTensor(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.KV, kv) {
		t.Errorf("metadata differ:\n got %#v\nwant %#v", f.KV, kv)
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 {
		t.Errorf("alignment %d, data offset %d", f.Alignment, f.DataOffset)
	}
	var wantOff uint64
	for i, x := range tensors {
		info, data, ok := f.Tensor(x.info.Name)
		if !ok {
			t.Fatalf("tensor %s missing", x.info.Name)
		}
		if !reflect.DeepEqual(info.Dims, x.info.Dims) || info.Type != x.info.Type {
			t.Errorf("%s: got dims %v type %s", x.info.Name, info.Dims, info.Type)
		}
		if info.Offset != wantOff {
			t.Errorf("%s: offset %d, want %d", x.info.Name, info.Offset, wantOff)
		}
		wantOff += uint64(pad(int64(len(datas[i])), 64))
		if !bytes.Equal(data, datas[i]) {
			t.Errorf("%s: data differ", x.info.Name)
		}
	}
	if int64(len(buf.Bytes())) != f.DataOffset+int64(wantOff) {
		t.Errorf("file is %d bytes, want %d", buf.Len(), f.DataOffset+int64(wantOff))
	}
	// Every truncation before the last tensor's end is an error, never a panic.
	end := int(f.DataOffset) + int(wantOff) - int(pad(int64(len(datas[3])), 64)) + len(datas[3])
	for n := 0; n < end; n += 1 + n/50 {
		if _, err := Parse(buf.Bytes()[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	f32 := TensorInfo{Name: "t", Dims: []uint64{4}, Type: F32}
	cases := []struct {
		name  string
		kv    []KV
		infos []TensorInfo
		want  string
	}{
		{"duplicate key", []KV{{"a", true}, {"a", false}}, nil, "appears twice"},
		{"bad alignment", []KV{{"general.alignment", uint32(48)}}, nil, "power of two"},
		{"alignment type", []KV{{"general.alignment", uint64(32)}}, nil, "power of two"},
		{"bad value", []KV{{"a", 3}}, nil, "unsupported value type int"},
		{"duplicate tensor", nil, []TensorInfo{f32, f32}, "appears twice"},
		{"q8 row", nil, []TensorInfo{{Name: "q", Dims: []uint64{48, 2}, Type: Q8_0}}, "not a multiple of Q8_0's block of 32"},
		{"zero dim", nil, []TensorInfo{{Name: "z", Dims: []uint64{4, 0}, Type: F32}}, "bad dimension"},
		{"unknown type", nil, []TensorInfo{{Name: "u", Dims: []uint64{4}, Type: 2}}, "unsupported type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewWriter(&bytes.Buffer{}, c.kv, c.infos)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	gw, err := NewWriter(&bytes.Buffer{}, nil, []TensorInfo{f32, {Name: "u", Dims: []uint64{2}, Type: F16}})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.WriteTensor(make([]byte, 17)); err == nil || !strings.Contains(err.Error(), "needs 16") {
		t.Errorf("long data: %v", err)
	}
	if err := gw.Close(); err == nil || !strings.Contains(err.Error(), "needs 16") {
		t.Errorf("Close after an error: %v", err)
	}
	gw, _ = NewWriter(&bytes.Buffer{}, nil, []TensorInfo{f32, {Name: "u", Dims: []uint64{2}, Type: F16}})
	chunks := func(yield func([]byte, error) bool) { _ = yield(make([]byte, 8), nil) && yield(make([]byte, 7), nil) }
	if err := gw.WriteTensorChunks(chunks); err == nil || !strings.Contains(err.Error(), "15 bytes of data, F32 [4] needs 16") {
		t.Errorf("short data: %v", err)
	}
	gw, _ = NewWriter(&bytes.Buffer{}, nil, []TensorInfo{f32, {Name: "u", Dims: []uint64{2}, Type: F16}})
	chunks = func(yield func([]byte, error) bool) { _ = yield(make([]byte, 8), nil) && yield(make([]byte, 8), nil) }
	if err := gw.WriteTensorChunks(chunks); err != nil {
		t.Fatal(err)
	}
	if err := gw.Close(); err == nil || !strings.Contains(err.Error(), "1 of 2 tensors") {
		t.Errorf("Close with a tensor missing: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		buf  []byte
		want string
	}{
		{"magic", []byte("GGML\x03\x00\x00\x00"), "not a GGUF file"},
		{"version", []byte("GGUF\x02\x00\x00\x00" + strings.Repeat("\x00", 16)), "version 2"},
		{"count", append([]byte("GGUF\x03\x00\x00\x00"), bytes.Repeat([]byte{0xff}, 16)...), "larger than the file"},
		{"duplicate key", dupFile(t, true), `metadata key "k" appears twice`},
		{"duplicate tensor", dupFile(t, false), `tensor "t" appears twice`},
	}
	for _, c := range cases {
		if _, err := Parse(c.buf); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// dupFile writes a file with one metadata key or one tensor name twice,
// which NewWriter refuses: its bytes are patched after writing.
func dupFile(t *testing.T, key bool) []byte {
	var buf bytes.Buffer
	infos := []TensorInfo{{Name: "t", Dims: []uint64{1}, Type: F32}, {Name: "u", Dims: []uint64{1}, Type: F32}}
	gw, err := NewWriter(&buf, []KV{{"k", true}, {"j", true}}, infos)
	if err != nil {
		t.Fatal(err)
	}
	gw.WriteTensor(make([]byte, 4))
	gw.WriteTensor(make([]byte, 4))
	gw.Close()
	b := buf.Bytes()
	if key {
		i := bytes.Index(b, []byte("\x01\x00\x00\x00\x00\x00\x00\x00j"))
		b[i+8] = 'k'
	} else {
		i := bytes.Index(b, []byte("\x01\x00\x00\x00\x00\x00\x00\x00u"))
		b[i+8] = 't'
	}
	return b
}

// TestQ8_0 checks the block layout on a hand-computed block: scale
// amax/127 as float16, then the 32 int8 values rounded half away from zero.
func TestQ8_0(t *testing.T) {
	x := make([]float32, 32)
	x[0], x[1], x[2], x[3] = 127, -63.5, 0.4, -127
	b, err := Encode(x, Q8_0)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 34 {
		t.Fatalf("%d bytes, want 34", len(b))
	}
	if d := binary.LittleEndian.Uint16(b); d != 0x3c00 { // 1.0 in float16
		t.Errorf("scale %#04x, want 0x3c00", d)
	}
	if got := []int8{int8(b[2]), int8(b[3]), int8(b[4]), int8(b[5]), int8(b[6])}; !reflect.DeepEqual(got, []int8{127, -64, 0, -127, 0}) {
		t.Errorf("quants %v", got)
	}
	zero, _ := Encode(make([]float32, 32), Q8_0)
	if !bytes.Equal(zero, make([]byte, 34)) {
		t.Errorf("zero block %v", zero)
	}
	// Random rows: the error of every value is at most half a step, plus
	// what storing the step as float16 costs (2^-11 relative, times |q| ≤ 127).
	vals := make([]float32, 32*40)
	for i := range vals {
		vals[i] = float32(math.Sin(float64(i)*1.7) * math.Exp(float64(i%13)-6))
	}
	enc, _ := Encode(vals, Q8_0)
	dec, err := Decode(enc, Q8_0)
	if err != nil {
		t.Fatal(err)
	}
	for blk := range 40 {
		var amax float64
		for _, v := range vals[blk*32 : blk*32+32] {
			amax = max(amax, math.Abs(float64(v)))
		}
		for i := blk * 32; i < blk*32+32; i++ {
			if e := math.Abs(float64(dec[i] - vals[i])); e > amax/127*(0.5+127.0/2048)+1e-12 {
				t.Fatalf("value %d: %g decoded as %g (step %g)", i, vals[i], dec[i], amax/127)
			}
		}
	}
	if _, err := Encode(make([]float32, 33), Q8_0); err == nil {
		t.Error("33 values: no error")
	}
}

func TestHalfTypes(t *testing.T) {
	x := []float32{1, -2.5, 65504, 1.0009765625, 3.0e-8, 1 + 1.0/256}
	f16, _ := Encode(x, F16)
	bf16, _ := Encode(x, BF16)
	if binary.LittleEndian.Uint16(f16[2:]) != 0xc100 || binary.LittleEndian.Uint16(bf16[2:]) != 0xc020 {
		t.Errorf("-2.5: f16 %#x bf16 %#x", binary.LittleEndian.Uint16(f16[2:]), binary.LittleEndian.Uint16(bf16[2:]))
	}
	back, _ := Decode(f16, F16)
	if back[2] != 65504 || back[3] != 1.0009765625 {
		t.Errorf("f16 round trip %v", back)
	}
	back, _ = Decode(bf16, BF16)
	if back[5] != 1 { // 1+2^-8 is a tie: rounds to even
		t.Errorf("bf16 rounding: %v", back[5])
	}
}

// FuzzParse: any input parses or fails with an error, never panics, and a
// parsed file's tensors lie inside it.
func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	gw, _ := NewWriter(&buf, []KV{{"a", []string{"x", "yz"}}, {"b", float32(1)}},
		[]TensorInfo{{Name: "t", Dims: []uint64{32, 2}, Type: Q8_0}, {Name: "u", Dims: []uint64{3}, Type: F16}})
	gw.WriteTensor(make([]byte, 68))
	gw.WriteTensor(make([]byte, 6))
	gw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Parse(b)
		if err != nil {
			return
		}
		for _, ti := range g.Tensors {
			if _, data, ok := g.Tensor(ti.Name); !ok || data == nil && len(ti.Dims) > 0 {
				t.Fatalf("tensor %q unreadable", ti.Name)
			}
		}
	})
}
