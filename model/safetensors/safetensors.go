// Package safetensors reads and writes the safetensors format
// (https://github.com/huggingface/safetensors) in pure Go:
//
//	8 bytes  little-endian uint64 N, the header length
//	N bytes  JSON header {"__metadata__": {...}, name: {"dtype", "shape", "data_offsets": [begin, end]}}
//	rest     the tensors' bytes, little-endian, row-major, offsets relative to the end of the header
//
// The header is padded with spaces so that the data starts 8-byte aligned,
// as the format's reference implementation does.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// DType names as the format spells them.
const (
	F32  = "F32"
	BF16 = "BF16"
	F16  = "F16"
	F64  = "F64"
	I64  = "I64"
	I32  = "I32"
)

// ElemSize is the byte size of one element of dtype, or 0 if unknown.
func ElemSize(dtype string) int {
	switch dtype {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case BF16, F16:
		return 2
	case "I8", "U8", "BOOL":
		return 1
	}
	return 0
}

// Tensor is one named tensor with its raw little-endian bytes.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// NumElements is the product of the shape.
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors file; tensors keep their raw bytes.
type File struct {
	Metadata map[string]string
	Tensors  map[string]*Tensor
}

// Names returns the tensor names sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for n := range f.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type headerEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// maxHeader bounds the header size so a corrupt length cannot make us allocate gigabytes.
const maxHeader = 100 << 20

// ReadFile reads and validates a whole safetensors file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse validates buf as a safetensors file. Tensors' Data alias buf.
func Parse(buf []byte) (*File, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("truncated file: %d bytes, need at least 8 for the header length", len(buf))
	}
	n := binary.LittleEndian.Uint64(buf[:8])
	if n > maxHeader {
		return nil, fmt.Errorf("header length %d is larger than %d bytes: not a safetensors file", n, maxHeader)
	}
	if uint64(len(buf)-8) < n {
		return nil, fmt.Errorf("truncated file: header says %d bytes, file has %d after the length", n, len(buf)-8)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("bad header JSON: %w", err)
	}
	data := buf[8+n:]
	f := &File{Tensors: map[string]*Tensor{}}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("bad __metadata__: %w", err)
			}
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("tensor %q: bad header entry: %w", name, err)
		}
		es := ElemSize(e.DType)
		if es == 0 {
			return nil, fmt.Errorf("tensor %q: unsupported dtype %q", name, e.DType)
		}
		t := &Tensor{Name: name, DType: e.DType, Shape: e.Shape}
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("tensor %q: negative dimension in shape %v", name, e.Shape)
			}
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		want := int64(t.NumElements() * es)
		if begin < 0 || end < begin || end-begin != want {
			return nil, fmt.Errorf("tensor %q: data_offsets [%d,%d] hold %d bytes, shape %v %s needs %d",
				name, begin, end, end-begin, e.Shape, e.DType, want)
		}
		if end > int64(len(data)) {
			return nil, fmt.Errorf("truncated file: tensor %q ends at byte %d of the data, file has %d", name, end, len(data))
		}
		t.Data = data[begin:end]
		f.Tensors[name] = t
	}
	return f, nil
}

// Encode serializes tensors (sorted by name) with the given metadata.
func Encode(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	ts := append([]Tensor(nil), tensors...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	// Build the header by hand so key order is deterministic (metadata first, then names sorted).
	var h bytes.Buffer
	h.WriteByte('{')
	if metadata != nil {
		m, err := json.Marshal(metadata)
		if err != nil {
			return nil, err
		}
		h.WriteString(`"__metadata__":`)
		h.Write(m)
	}
	var offset int64
	for i, t := range ts {
		es := ElemSize(t.DType)
		if es == 0 {
			return nil, fmt.Errorf("tensor %q: unsupported dtype %q", t.Name, t.DType)
		}
		if len(t.Data) != t.NumElements()*es {
			return nil, fmt.Errorf("tensor %q: %d bytes, shape %v %s needs %d", t.Name, len(t.Data), t.Shape, t.DType, t.NumElements()*es)
		}
		if i > 0 || metadata != nil {
			h.WriteByte(',')
		}
		name, _ := json.Marshal(t.Name)
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		e, _ := json.Marshal(headerEntry{DType: t.DType, Shape: shape, DataOffsets: [2]int64{offset, offset + int64(len(t.Data))}})
		h.Write(name)
		h.WriteByte(':')
		h.Write(e)
		offset += int64(len(t.Data))
	}
	h.WriteByte('}')
	// Pad with spaces so 8+len(header) is a multiple of 8: the data is then aligned.
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	out := make([]byte, 8, 8+h.Len()+int(offset))
	binary.LittleEndian.PutUint64(out, uint64(h.Len()))
	out = append(out, h.Bytes()...)
	for _, t := range ts {
		out = append(out, t.Data...)
	}
	return out, nil
}

// WriteFile writes tensors to path atomically: a temporary file in the same
// directory is written, synced and renamed over path, so readers never see a half file.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	buf, err := Encode(tensors, metadata)
	if err != nil {
		return err
	}
	return WriteAtomic(path, buf)
}

// WriteAtomic writes data to path through a temporary file and a rename.
func WriteAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// ToFloat32 decodes a tensor's elements to float32 (F32, BF16, F16, F64).
func (t *Tensor) ToFloat32() ([]float32, error) {
	n := t.NumElements()
	out := make([]float32, n)
	d := t.Data
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BF16ToFloat32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case F16:
		for i := range out {
			out[i] = F16ToFloat32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	default:
		return nil, fmt.Errorf("tensor %q: dtype %s is not a float type", t.Name, t.DType)
	}
	return out, nil
}

// FromFloat32 encodes values as a tensor of dtype F32, BF16 or F16.
func FromFloat32(name, dtype string, shape []int, values []float32) (Tensor, error) {
	t := Tensor{Name: name, DType: dtype, Shape: append([]int(nil), shape...)}
	if t.NumElements() != len(values) {
		return t, fmt.Errorf("tensor %q: %d values for shape %v", name, len(values), shape)
	}
	switch dtype {
	case F32:
		t.Data = make([]byte, 4*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(v))
		}
	case BF16:
		t.Data = make([]byte, 2*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint16(t.Data[2*i:], Float32ToBF16(v))
		}
	case F16:
		t.Data = make([]byte, 2*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint16(t.Data[2*i:], Float32ToF16(v))
		}
	default:
		return t, errors.New("safetensors: can only encode F32, BF16 or F16, not " + dtype)
	}
	return t, nil
}

// BF16ToFloat32: bfloat16 is the top half of a float32.
func BF16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// Float32ToBF16 rounds to nearest even, as PyTorch does; NaN stays NaN.
func Float32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40 // quiet NaN
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// F16ToFloat32 decodes IEEE half precision.
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: value = mant * 2^-24.
		v := float32(mant) * float32(math.Ldexp(1, -24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// Float32ToF16 rounds to nearest even half precision.
func Float32ToF16(f float32) uint16 {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	exp := int32(u>>23) & 0xff
	mant := u & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - e)
		half := mant >> shift
		rem := mant & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++
	}
	return sign | uint16(half)
}
