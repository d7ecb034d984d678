package gguf

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/star-go/star/model/safetensors"
)

// Q8_0 blocks: 32 values as one float16 scale d and 32 int8 q, x ≈ d·q.
const (
	q8Block      = 32
	q8BlockBytes = 2 + q8Block
)

// Encode converts float32 values (row-major, innermost dimension last) to
// the bytes of a tensor of type t. For Q8_0 the value count must be a
// multiple of 32, and so must the innermost dimension (checked by TensorInfo.Size).
func Encode(values []float32, t TensorType) ([]byte, error) {
	le := binary.LittleEndian
	switch t {
	case F32:
		out := make([]byte, 4*len(values))
		for i, v := range values {
			le.PutUint32(out[4*i:], math.Float32bits(v))
		}
		return out, nil
	case F16:
		out := make([]byte, 2*len(values))
		for i, v := range values {
			le.PutUint16(out[2*i:], safetensors.Float32ToF16(v))
		}
		return out, nil
	case BF16:
		out := make([]byte, 2*len(values))
		for i, v := range values {
			le.PutUint16(out[2*i:], safetensors.Float32ToBF16(v))
		}
		return out, nil
	case Q8_0:
		if len(values)%q8Block != 0 {
			return nil, fmt.Errorf("Q8_0: %d values are not a whole number of %d-value blocks", len(values), q8Block)
		}
		out := make([]byte, len(values)/q8Block*q8BlockBytes)
		for b := range len(values) / q8Block {
			quantizeQ8Block(out[b*q8BlockBytes:(b+1)*q8BlockBytes], values[b*q8Block:(b+1)*q8Block])
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot encode tensor type %s", t)
}

// quantizeQ8Block follows ggml's reference quantize_row_q8_0_ref: the scale
// is amax/127 in float32, stored as float16; q = round-half-away(x/d) with
// the unrounded float32 scale.
func quantizeQ8Block(dst []byte, x []float32) {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	binary.LittleEndian.PutUint16(dst, safetensors.Float32ToF16(d))
	for j, v := range x {
		dst[2+j] = byte(int8(math.Round(float64(v * id))))
	}
}

// Decode converts tensor bytes of type t back to float32 (for checks).
func Decode(data []byte, t TensorType) ([]float32, error) {
	le := binary.LittleEndian
	switch t {
	case F32:
		out := make([]float32, len(data)/4)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(data[4*i:]))
		}
		return out, nil
	case F16, BF16:
		out := make([]float32, len(data)/2)
		for i := range out {
			h := le.Uint16(data[2*i:])
			if t == F16 {
				out[i] = safetensors.F16ToFloat32(h)
			} else {
				out[i] = safetensors.BF16ToFloat32(h)
			}
		}
		return out, nil
	case Q8_0:
		if len(data)%q8BlockBytes != 0 {
			return nil, fmt.Errorf("Q8_0: %d bytes are not a whole number of blocks", len(data))
		}
		out := make([]float32, 0, len(data)/q8BlockBytes*q8Block)
		for b := 0; b < len(data); b += q8BlockBytes {
			d := safetensors.F16ToFloat32(le.Uint16(data[b:]))
			for _, q := range data[b+2 : b+q8BlockBytes] {
				out = append(out, d*float32(int8(q)))
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot decode tensor type %s", t)
}
