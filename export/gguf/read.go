package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// File is a parsed GGUF file. Tensor data alias the buffer it was read from.
type File struct {
	Version   uint32
	KV        []KV
	Tensors   []TensorInfo
	Alignment int64
	// DataOffset is the file offset of the data section.
	DataOffset int64
	buf        []byte
}

// Get returns the value of a metadata key.
func (f *File) Get(key string) (any, bool) {
	for _, e := range f.KV {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// Tensor returns a tensor's info and its data bytes.
func (f *File) Tensor(name string) (TensorInfo, []byte, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			size, _ := t.Size()
			start := f.DataOffset + int64(t.Offset)
			return t, f.buf[start : start+size], true
		}
	}
	return TensorInfo{}, nil, false
}

// ReadFile reads and parses a whole GGUF file.
func ReadFile(path string) (*File, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse validates buf as a GGUF v3 file of the tensor types this package
// knows: every length, type and offset is checked against the buffer.
func Parse(buf []byte) (*File, error) {
	r := &reader{buf: buf}
	if m := r.u32(); m != Magic {
		if r.err != nil {
			return nil, r.err
		}
		return nil, fmt.Errorf("bad magic %#x: not a GGUF file", m)
	}
	f := &File{Version: r.u32(), Alignment: DefaultAlignment, buf: buf}
	if r.err == nil && f.Version != Version {
		return nil, fmt.Errorf("GGUF version %d, only %d is supported", f.Version, Version)
	}
	nt, nkv := r.u64(), r.u64()
	if r.err != nil {
		return nil, r.err
	}
	// Each entry takes at least 8 bytes, so larger counts are corrupt.
	if nt > uint64(len(buf))/8 || nkv > uint64(len(buf))/8 {
		return nil, fmt.Errorf("counts %d tensors, %d metadata are larger than the file allows", nt, nkv)
	}
	seen := map[string]bool{} // keys, and tensor names prefixed with "\x00tensor "
	for range nkv {
		key := r.str()
		v := r.value(ValueType(r.u32()), true)
		if r.err != nil {
			return nil, fmt.Errorf("metadata %q: %w", key, r.err)
		}
		if seen[key] {
			return nil, fmt.Errorf("metadata key %q appears twice", key)
		}
		seen[key] = true
		f.KV = append(f.KV, KV{key, v})
		if key == "general.alignment" {
			a, ok := v.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return nil, fmt.Errorf("general.alignment %v (%T) is not a uint32 power of two", v, v)
			}
			f.Alignment = int64(a)
		}
	}
	for range nt {
		t := TensorInfo{Name: r.str()}
		nd := r.u32()
		if nd > 4 {
			return nil, fmt.Errorf("tensor %q: %d dimensions (ggml has at most 4)", t.Name, nd)
		}
		for range nd {
			t.Dims = append(t.Dims, r.u64())
		}
		t.Type = TensorType(r.u32())
		t.Offset = r.u64()
		if r.err != nil {
			return nil, fmt.Errorf("tensor info %q: %w", t.Name, r.err)
		}
		if seen["\x00tensor "+t.Name] {
			return nil, fmt.Errorf("tensor %q appears twice", t.Name)
		}
		seen["\x00tensor "+t.Name] = true
		f.Tensors = append(f.Tensors, t)
	}
	f.DataOffset = pad(int64(r.pos), f.Alignment)
	for _, t := range f.Tensors {
		size, err := t.Size()
		if err != nil {
			return nil, err
		}
		if int64(t.Offset)%f.Alignment != 0 {
			return nil, fmt.Errorf("tensor %q: offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
		if end := f.DataOffset + int64(t.Offset) + size; t.Offset > uint64(len(buf)) || end > int64(len(buf)) {
			return nil, fmt.Errorf("truncated file: tensor %q ends at byte %d, file has %d", t.Name, end, len(buf))
		}
	}
	return f, nil
}

type reader struct {
	buf []byte
	pos int
	err error
}

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.buf)-r.pos) {
		r.err = fmt.Errorf("truncated file: need %d bytes at offset %d, file has %d", n, r.pos, len(r.buf))
		return nil
	}
	b := r.buf[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *reader) str() string { return string(r.take(r.u64())) }

// value reads one value of type t; arrays only at the top level.
func (r *reader) value(t ValueType, top bool) any {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		if b := r.take(1); b != nil {
			return b[0]
		}
	case TypeInt8:
		if b := r.take(1); b != nil {
			return int8(b[0])
		}
	case TypeUint16:
		if b := r.take(2); b != nil {
			return le.Uint16(b)
		}
	case TypeInt16:
		if b := r.take(2); b != nil {
			return int16(le.Uint16(b))
		}
	case TypeUint32:
		return r.u32()
	case TypeInt32:
		return int32(r.u32())
	case TypeFloat32:
		return math.Float32frombits(r.u32())
	case TypeBool:
		if b := r.take(1); b != nil {
			if b[0] > 1 {
				r.err = fmt.Errorf("bool value %d", b[0])
			}
			return b[0] == 1
		}
	case TypeString:
		return r.str()
	case TypeUint64:
		return r.u64()
	case TypeInt64:
		return int64(r.u64())
	case TypeFloat64:
		return math.Float64frombits(r.u64())
	case TypeArray:
		if !top {
			r.err = errors.New("nested arrays are not supported")
			return nil
		}
		return r.array()
	default:
		r.err = fmt.Errorf("unknown value type %d", t)
	}
	return nil
}

func (r *reader) array() any {
	et := ValueType(r.u32())
	n := r.u64()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.buf)-r.pos) { // every element takes at least one byte
		r.err = fmt.Errorf("array of %d elements is larger than the file", n)
		return nil
	}
	switch et {
	case TypeUint8:
		return readArray[uint8](r, et, n)
	case TypeInt8:
		return readArray[int8](r, et, n)
	case TypeUint16:
		return readArray[uint16](r, et, n)
	case TypeInt16:
		return readArray[int16](r, et, n)
	case TypeUint32:
		return readArray[uint32](r, et, n)
	case TypeInt32:
		return readArray[int32](r, et, n)
	case TypeFloat32:
		return readArray[float32](r, et, n)
	case TypeBool:
		return readArray[bool](r, et, n)
	case TypeString:
		return readArray[string](r, et, n)
	case TypeUint64:
		return readArray[uint64](r, et, n)
	case TypeInt64:
		return readArray[int64](r, et, n)
	case TypeFloat64:
		return readArray[float64](r, et, n)
	}
	r.err = fmt.Errorf("array of unsupported element type %d", et)
	return nil
}

func readArray[T any](r *reader, et ValueType, n uint64) []T {
	out := make([]T, 0, n)
	for range n {
		v := r.value(et, false)
		if r.err != nil {
			return nil
		}
		out = append(out, v.(T))
	}
	return out
}
