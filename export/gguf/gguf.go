// Package gguf writes (and, for checks, reads) GGUF files, the single-file
// model format of llama.cpp and Ollama, and exports a Qwen3 checkpoint with
// its tokenizer and chat template as one (Export).
//
// GGUF version 3, little-endian throughout:
//
//	magic "GGUF", uint32 version, uint64 tensor count, uint64 metadata count
//	metadata: key (string), uint32 value type, value
//	tensor infos: name (string), uint32 n_dims, uint64 dims[n_dims], uint32 type, uint64 offset
//	padding to the alignment, then each tensor's data, each padded to the alignment
//
// A string is a uint64 byte length and the bytes (no terminator); an array is
// a uint32 element type, a uint64 count and the elements. Tensor offsets are
// relative to the start of the data section and are multiples of the alignment
// (general.alignment, default 32). Dims are in ggml order: dims[0] is the
// fastest-varying (innermost) one, the reverse of the row-major shape that
// PyTorch and safetensors use.
package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
)

// Magic is "GGUF" read as a little-endian uint32.
const Magic = 0x46554747

// Version is the GGUF version written.
const Version = 3

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// ValueType is a metadata value's type tag.
type ValueType uint32

// Metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

// TensorType is ggml's element type of a tensor.
type TensorType uint32

// The tensor types this package writes.
const (
	F32  TensorType = 0
	F16  TensorType = 1
	Q8_0 TensorType = 8
	BF16 TensorType = 30
)

func (t TensorType) String() string {
	switch t {
	case F32:
		return "F32"
	case F16:
		return "F16"
	case Q8_0:
		return "Q8_0"
	case BF16:
		return "BF16"
	}
	return fmt.Sprintf("type%d", uint32(t))
}

// blockSize returns the elements per block and the bytes per block of t.
func (t TensorType) blockSize() (elems, bytes int64, ok bool) {
	switch t {
	case F32:
		return 1, 4, true
	case F16, BF16:
		return 1, 2, true
	case Q8_0:
		return q8Block, q8BlockBytes, true
	}
	return 0, 0, false
}

// KV is one metadata entry. Value is one of uint8, int8, uint16, int16,
// uint32, int32, float32, bool, string, uint64, int64, float64, or a slice
// of one of them (an array).
type KV struct {
	Key   string
	Value any
}

// TensorInfo describes one tensor: Dims in ggml order (innermost first).
type TensorInfo struct {
	Name string
	Dims []uint64
	Type TensorType
	// Offset in the data section; set by NewWriter and by Read.
	Offset uint64
}

// Size is the number of bytes of the tensor's data (without padding).
func (t TensorInfo) Size() (int64, error) {
	elems, bytes, ok := t.Type.blockSize()
	if !ok {
		return 0, fmt.Errorf("tensor %q: unsupported type %s", t.Name, t.Type)
	}
	if len(t.Dims) == 0 {
		return 0, fmt.Errorf("tensor %q: no dimensions", t.Name)
	}
	if t.Dims[0]%uint64(elems) != 0 {
		return 0, fmt.Errorf("tensor %q: innermost dimension %d is not a multiple of %s's block of %d", t.Name, t.Dims[0], t.Type, elems)
	}
	n := int64(1)
	for _, d := range t.Dims {
		if d == 0 || d > uint64(math.MaxInt64/n) {
			return 0, fmt.Errorf("tensor %q: bad dimension %d in %v", t.Name, d, t.Dims)
		}
		n *= int64(d)
	}
	return n / elems * bytes, nil
}

// ReverseShape turns a row-major shape (PyTorch, safetensors) into GGUF dims.
func ReverseShape(shape []int) []uint64 {
	dims := make([]uint64, len(shape))
	for i, d := range shape {
		dims[len(shape)-1-i] = uint64(d)
	}
	return dims
}

func pad(n, align int64) int64 { return (n + align - 1) / align * align }

// Writer streams a GGUF file: NewWriter writes the header, metadata and
// tensor infos; WriteTensor then takes each tensor's data in the same order.
type Writer struct {
	w       *bufio.Writer
	infos   []TensorInfo
	align   int64
	pos     int64 // bytes written so far
	dataPos int64 // file offset of the data section
	next    int
	err     error // the first error of WriteTensorChunks: the file is then broken
}

// NewWriter writes everything before the tensor data. The alignment is
// general.alignment when kv sets it (a uint32 power of two), else 32.
// Tensor offsets are assigned in order; infos' Offset fields are ignored.
func NewWriter(w io.Writer, kv []KV, infos []TensorInfo) (*Writer, error) {
	gw := &Writer{w: bufio.NewWriterSize(w, 1<<20), align: DefaultAlignment}
	seen := map[string]bool{}
	for _, e := range kv {
		if seen[e.Key] {
			return nil, fmt.Errorf("gguf: metadata key %q appears twice", e.Key)
		}
		seen[e.Key] = true
		if e.Key == "general.alignment" {
			a, ok := e.Value.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return nil, fmt.Errorf("gguf: general.alignment must be a uint32 power of two, got %v (%T)", e.Value, e.Value)
			}
			gw.align = int64(a)
		}
	}
	gw.infos = make([]TensorInfo, len(infos))
	names := map[string]bool{}
	var off int64
	for i, t := range infos {
		if names[t.Name] {
			return nil, fmt.Errorf("gguf: tensor %q appears twice", t.Name)
		}
		names[t.Name] = true
		size, err := t.Size()
		if err != nil {
			return nil, fmt.Errorf("gguf: %w", err)
		}
		t.Dims = append([]uint64(nil), t.Dims...)
		t.Offset = uint64(off)
		gw.infos[i] = t
		off = pad(off+size, gw.align)
	}

	gw.u32(Magic)
	gw.u32(Version)
	gw.u64(uint64(len(infos)))
	gw.u64(uint64(len(kv)))
	for _, e := range kv {
		gw.str(e.Key)
		if err := gw.value(e.Value, true); err != nil {
			return nil, fmt.Errorf("gguf: metadata %q: %w", e.Key, err)
		}
	}
	for _, t := range gw.infos {
		gw.str(t.Name)
		gw.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			gw.u64(d)
		}
		gw.u32(uint32(t.Type))
		gw.u64(t.Offset)
	}
	gw.zeros(pad(gw.pos, gw.align) - gw.pos)
	gw.dataPos = gw.pos
	return gw, nil
}

// Infos returns the tensor infos with their assigned offsets.
func (gw *Writer) Infos() []TensorInfo { return gw.infos }

// WriteTensor writes the data of the next tensor; its length must be exactly
// the tensor's Size.
func (gw *Writer) WriteTensor(data []byte) error {
	return gw.WriteTensorChunks(func(yield func([]byte, error) bool) { yield(data, nil) })
}

// WriteTensorChunks writes the data of the next tensor as consecutive
// chunks (so a large tensor need not be in memory twice); together they must
// be exactly the tensor's Size. An error from the sequence is returned.
// After an error the Writer only returns that error.
func (gw *Writer) WriteTensorChunks(chunks iter.Seq2[[]byte, error]) error {
	if gw.err == nil {
		gw.err = gw.writeTensor(chunks)
	}
	return gw.err
}

func (gw *Writer) writeTensor(chunks iter.Seq2[[]byte, error]) error {
	if gw.next >= len(gw.infos) {
		return errors.New("gguf: more tensors written than declared")
	}
	t := gw.infos[gw.next]
	size, _ := t.Size()
	if gw.pos-gw.dataPos != int64(t.Offset) {
		return fmt.Errorf("gguf: tensor %q: internal offset mismatch", t.Name)
	}
	var n int64
	for data, err := range chunks {
		if err != nil {
			return err
		}
		if n += int64(len(data)); n > size {
			break
		}
		gw.write(data)
	}
	if n != size {
		return fmt.Errorf("gguf: tensor %q: %d bytes of data, %s %v needs %d", t.Name, n, t.Type, t.Dims, size)
	}
	gw.zeros(pad(gw.pos, gw.align) - gw.pos)
	gw.next++
	return nil
}

// Close checks that every declared tensor was written and flushes. It does
// not close the underlying writer.
func (gw *Writer) Close() error {
	if gw.err != nil {
		return gw.err
	}
	if gw.next != len(gw.infos) {
		return fmt.Errorf("gguf: %d of %d tensors written", gw.next, len(gw.infos))
	}
	return gw.w.Flush()
}

// write errors are sticky in bufio.Writer and surface at Flush (Close).
func (gw *Writer) write(b []byte) {
	n, _ := gw.w.Write(b)
	gw.pos += int64(n)
}

func (gw *Writer) zeros(n int64) {
	var z [64]byte
	for n > 0 {
		k := min(n, int64(len(z)))
		gw.write(z[:k])
		n -= k
	}
}

func (gw *Writer) u32(v uint32) { gw.write(binary.LittleEndian.AppendUint32(nil, v)) }
func (gw *Writer) u64(v uint64) { gw.write(binary.LittleEndian.AppendUint64(nil, v)) }
func (gw *Writer) str(s string) {
	gw.u64(uint64(len(s)))
	gw.write([]byte(s))
}

// value writes v, preceded by its type tag when tagged (array elements are not).
func (gw *Writer) value(v any, tagged bool) error {
	tag := func(t ValueType) {
		if tagged {
			gw.u32(uint32(t))
		}
	}
	le := binary.LittleEndian
	switch x := v.(type) {
	case uint8:
		tag(TypeUint8)
		gw.write([]byte{x})
	case int8:
		tag(TypeInt8)
		gw.write([]byte{byte(x)})
	case uint16:
		tag(TypeUint16)
		gw.write(le.AppendUint16(nil, x))
	case int16:
		tag(TypeInt16)
		gw.write(le.AppendUint16(nil, uint16(x)))
	case uint32:
		tag(TypeUint32)
		gw.u32(x)
	case int32:
		tag(TypeInt32)
		gw.u32(uint32(x))
	case float32:
		tag(TypeFloat32)
		gw.u32(math.Float32bits(x))
	case bool:
		tag(TypeBool)
		b := byte(0)
		if x {
			b = 1
		}
		gw.write([]byte{b})
	case string:
		tag(TypeString)
		gw.str(x)
	case uint64:
		tag(TypeUint64)
		gw.u64(x)
	case int64:
		tag(TypeInt64)
		gw.u64(uint64(x))
	case float64:
		tag(TypeFloat64)
		gw.u64(math.Float64bits(x))
	case []uint8:
		return writeArray(gw, tagged, TypeUint8, x)
	case []int8:
		return writeArray(gw, tagged, TypeInt8, x)
	case []uint16:
		return writeArray(gw, tagged, TypeUint16, x)
	case []int16:
		return writeArray(gw, tagged, TypeInt16, x)
	case []uint32:
		return writeArray(gw, tagged, TypeUint32, x)
	case []int32:
		return writeArray(gw, tagged, TypeInt32, x)
	case []float32:
		return writeArray(gw, tagged, TypeFloat32, x)
	case []bool:
		return writeArray(gw, tagged, TypeBool, x)
	case []string:
		return writeArray(gw, tagged, TypeString, x)
	case []uint64:
		return writeArray(gw, tagged, TypeUint64, x)
	case []int64:
		return writeArray(gw, tagged, TypeInt64, x)
	case []float64:
		return writeArray(gw, tagged, TypeFloat64, x)
	default:
		return fmt.Errorf("unsupported value type %T", v)
	}
	return nil
}

func writeArray[T any](gw *Writer, tagged bool, elem ValueType, xs []T) error {
	if !tagged {
		return errors.New("nested arrays are not supported")
	}
	gw.u32(uint32(TypeArray))
	gw.u32(uint32(elem))
	gw.u64(uint64(len(xs)))
	for _, x := range xs {
		if err := gw.value(x, false); err != nil {
			return err
		}
	}
	return nil
}
