package pyjson

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// Marshaler is implemented by types that write themselves as JSON.
type Marshaler interface {
	AppendPyJSON(dst []byte, opt *Options) []byte
}

// Options select a json.dumps flavour.
type Options struct {
	// EnsureASCII escapes non-ASCII as \uXXXX (json.dumps' default; HF's
	// tojson and STAR's files use ensure_ascii=False, the zero value here).
	EnsureASCII bool
	// Compact uses separators "," and ":" instead of ", " and ": ".
	Compact bool
}

// Marshal is json.dumps(v, ensure_ascii=False).
func Marshal(v any) []byte { return Append(nil, v, nil) }

// MarshalString is Marshal returning a string.
func MarshalString(v any) string { return string(Append(nil, v, nil)) }

// Append appends the JSON of v to dst. v may be any value Unmarshal returns,
// a Marshaler, or a common Go scalar, slice or map[string]any (whose key order
// is undefined, so prefer *Object). Unsupported types panic: they are bugs.
func Append(dst []byte, v any, opt *Options) []byte {
	if opt == nil {
		opt = &Options{}
	}
	comma, colon := ", ", ": "
	if opt.Compact {
		comma, colon = ",", ":"
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		if x {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case string:
		return AppendString(dst, x, opt.EnsureASCII)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case *big.Int:
		return x.Append(dst, 10)
	case float64:
		return AppendFloat(dst, x)
	case float32:
		return AppendFloat(dst, float64(x))
	case *Object:
		if x == nil {
			return append(dst, "null"...)
		}
		dst = append(dst, '{')
		for i, m := range x.Members {
			if i > 0 {
				dst = append(dst, comma...)
			}
			dst = AppendString(dst, m.Key, opt.EnsureASCII)
			dst = append(dst, colon...)
			dst = Append(dst, m.Value, opt)
		}
		return append(dst, '}')
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, comma...)
			}
			dst = Append(dst, e, opt)
		}
		return append(dst, ']')
	case []string:
		return appendSlice(dst, x, opt, comma)
	case []int:
		return appendSlice(dst, x, opt, comma)
	case []int64:
		return appendSlice(dst, x, opt, comma)
	case []float64:
		return appendSlice(dst, x, opt, comma)
	case []float32:
		return appendSlice(dst, x, opt, comma)
	case map[string]any:
		o := &Object{}
		for k, e := range x {
			o.Set(k, e)
		}
		return Append(dst, o, opt)
	case Marshaler:
		return x.AppendPyJSON(dst, opt)
	default:
		panic(fmt.Sprintf("pyjson: cannot marshal %T", v))
	}
}

func appendSlice[T any](dst []byte, xs []T, opt *Options, comma string) []byte {
	dst = append(dst, '[')
	for i, e := range xs {
		if i > 0 {
			dst = append(dst, comma...)
		}
		dst = Append(dst, any(e), opt)
	}
	return append(dst, ']')
}

// AppendFloat appends f as Python's float repr (json.dumps prints floats so,
// with NaN, Infinity and -Infinity for the non-finite values).
func AppendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return appendRepr(dst, f)
}

// appendRepr writes the shortest round-trip digits, in positional notation
// when the decimal point falls in (-4, 16] and in exponent notation otherwise,
// exactly as CPython's float_repr.
func appendRepr(dst []byte, f float64) []byte {
	var scratch [32]byte
	e := strconv.AppendFloat(scratch[:0], f, 'e', -1, 64) // -d.ddde±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	mant, exp := e, 0
	for i, c := range e {
		if c == 'e' {
			mant = e[:i]
			exp, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	digits := make([]byte, 0, len(mant))
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	decpt := exp + 1 // position of the decimal point relative to the digits
	if neg {
		dst = append(dst, '-')
	}
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			dst = append(dst, "0."...)
			for i := 0; i < -decpt; i++ {
				dst = append(dst, '0')
			}
			dst = append(dst, digits...)
		case decpt >= len(digits):
			dst = append(dst, digits...)
			for i := len(digits); i < decpt; i++ {
				dst = append(dst, '0')
			}
			dst = append(dst, ".0"...)
		default:
			dst = append(dst, digits[:decpt]...)
			dst = append(dst, '.')
			dst = append(dst, digits[decpt:]...)
		}
		return dst
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'e')
	x := decpt - 1
	if x < 0 {
		dst = append(dst, '-')
		x = -x
	} else {
		dst = append(dst, '+')
	}
	if x < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(x), 10)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string the way json.dumps escapes it.
func AppendString(dst []byte, s string, ensureASCII bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, `\"`...)
			case '\\':
				dst = append(dst, `\\`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			default:
				dst = append(dst, `\u00`...)
				dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !ensureASCII {
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		if r >= 0x10000 {
			r -= 0x10000
			dst = appendU4(dst, 0xd800+(r>>10))
			dst = appendU4(dst, 0xdc00+(r&0x3ff))
		} else {
			dst = appendU4(dst, r)
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
