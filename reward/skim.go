package reward

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/star-go/star/internal/pyjson"
)

// A validating JSON skimmer for the prompt's tool lines. The reward needs only
// each tool's name and the key set of its parameters, but a line must still
// be valid JSON exactly as json.loads accepts it (NaN/Infinity allowed, raw
// control characters in strings rejected, no trailing commas or leading
// zeros). Skimming checks all of that without building the values, which
// makes parsing a prompt several times faster than a full decode.

var errSkim = errors.New("invalid JSON")

type skimmer struct {
	s     string
	pos   int
	depth int
	buf   []byte // scratch for strings with escapes
}

func (k *skimmer) fail(msg string) error {
	return fmt.Errorf("%w at byte %d: %s", errSkim, k.pos, msg)
}

func (k *skimmer) space() {
	for k.pos < len(k.s) {
		switch k.s[k.pos] {
		case ' ', '\t', '\n', '\r':
			k.pos++
		default:
			return
		}
	}
}

// value skips one value, returning its span.
func (k *skimmer) value() (string, error) {
	start := k.pos
	if k.pos >= len(k.s) {
		return "", k.fail("expecting a value")
	}
	var err error
	switch c := k.s[k.pos]; {
	case c == '{':
		err = k.object()
	case c == '[':
		err = k.array()
	case c == '"':
		_, _, err = k.str()
	case c == '-' || c >= '0' && c <= '9':
		err = k.number()
	case k.lit("true"), k.lit("false"), k.lit("null"), k.lit("NaN"), k.lit("Infinity"):
	default:
		err = k.fail("expecting a value")
	}
	return k.s[start:k.pos], err
}

// peek is the byte at k.pos (0 at the end).
func (k *skimmer) peek() byte {
	if k.pos < len(k.s) {
		return k.s[k.pos]
	}
	return 0
}

func (k *skimmer) lit(w string) bool {
	if len(k.s)-k.pos >= len(w) && k.s[k.pos:k.pos+len(w)] == w {
		k.pos += len(w)
		return true
	}
	return false
}

// strPlain marks the bytes a string can hold without a closer look.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

// str skips a string, returning its span with quotes and whether it has
// escapes.
func (k *skimmer) str() (string, bool, error) {
	start := k.pos
	esc := false
	i := k.pos + 1
	for {
		i = plainRun(k.s, i)
		for i < len(k.s) && strPlain[k.s[i]] {
			i++
		}
		if i >= len(k.s) {
			k.pos = i
			return "", esc, k.fail("unterminated string")
		}
		switch c := k.s[i]; {
		case c == '"':
			k.pos = i + 1
			return k.s[start:k.pos], esc, nil
		case c < 0x20:
			k.pos = i
			return "", esc, k.fail("control character in string")
		}
		// a backslash
		esc = true
		if i+1 >= len(k.s) {
			k.pos = i
			return "", esc, k.fail("unterminated escape")
		}
		switch k.s[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > len(k.s) || !isHex4(k.s[i+2:i+6]) {
				k.pos = i
				return "", esc, k.fail("invalid \\u escape")
			}
			i += 6
		default:
			k.pos = i
			return "", esc, k.fail("invalid escape")
		}
	}
}

const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainRun skips, eight bytes at a time, bytes that need no attention in a
// string (not a quote, backslash or control character) from i; it stops at
// or before the first one that does.
func plainRun(s string, i int) int {
	for i+8 <= len(s) {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		q := w ^ (lows * '"')
		b := w ^ (lows * '\\')
		if ((w-lows*0x20)&^w|(q-lows)&^q|(b-lows)&^b)&highs != 0 {
			return i
		}
		i += 8
	}
	return i
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (k *skimmer) digits() int {
	n := 0
	for k.pos < len(k.s) && k.s[k.pos] >= '0' && k.s[k.pos] <= '9' {
		k.pos++
		n++
	}
	return n
}

// number skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? or -Infinity;
// what follows an incomplete fraction or exponent is left for the caller to
// reject, as Python's scanner does.
func (k *skimmer) number() error {
	if k.s[k.pos] == '-' {
		k.pos++
		if k.lit("Infinity") {
			return nil
		}
	}
	start := k.pos
	n := k.digits()
	if n == 0 {
		return k.fail("invalid number")
	}
	if n > 1 && k.s[start] == '0' {
		return k.fail("leading zero in number")
	}
	isInt := true
	if k.pos+1 < len(k.s) && k.s[k.pos] == '.' && k.s[k.pos+1] >= '0' && k.s[k.pos+1] <= '9' {
		k.pos++
		k.digits()
		isInt = false
	}
	if k.pos < len(k.s) && (k.s[k.pos] == 'e' || k.s[k.pos] == 'E') {
		save := k.pos
		k.pos++
		if k.pos < len(k.s) && (k.s[k.pos] == '+' || k.s[k.pos] == '-') {
			k.pos++
		}
		if k.digits() == 0 {
			k.pos = save
		} else {
			isInt = false
		}
	}
	if isInt && n > maxIntDigits {
		return k.fail("integer over 4300 digits (Python's int conversion limit)")
	}
	return nil
}

// maxIntDigits is Python's sys.int_info.default_max_str_digits: json.loads
// (int()) refuses longer integer literals.
const maxIntDigits = 4300

func (k *skimmer) array() error {
	k.depth++
	if k.depth > 1000 {
		return k.fail("nested too deeply")
	}
	k.pos++
	k.space()
	if k.pos < len(k.s) && k.s[k.pos] == ']' {
		k.pos++
		k.depth--
		return nil
	}
	for {
		k.space()
		if _, err := k.value(); err != nil {
			return err
		}
		k.space()
		if k.pos >= len(k.s) {
			return k.fail("unterminated array")
		}
		switch k.s[k.pos] {
		case ',':
			k.pos++
		case ']':
			k.pos++
			k.depth--
			return nil
		default:
			return k.fail("expecting ',' or ']'")
		}
	}
}

// object skips an object.
func (k *skimmer) object() error {
	empty, err := k.objBegin()
	for !empty && err == nil {
		if _, err = k.objKey(); err != nil {
			return err
		}
		if _, err = k.value(); err != nil {
			return err
		}
		empty, err = k.objNext()
	}
	return err
}

// objBegin consumes an object's "{" and reports whether it is empty "{}".
// Members are then read as objKey, a value, objNext, until objNext reports
// the end.
func (k *skimmer) objBegin() (end bool, err error) {
	k.depth++
	if k.depth > 1000 {
		return false, k.fail("nested too deeply")
	}
	k.pos++
	k.space()
	if k.pos < len(k.s) && k.s[k.pos] == '}' {
		k.pos++
		k.depth--
		return true, nil
	}
	return false, nil
}

// objKey reads a member's key and colon; it returns the key's quoted span
// and leaves k.pos at the value.
func (k *skimmer) objKey() (string, error) {
	k.space()
	if k.pos >= len(k.s) || k.s[k.pos] != '"' {
		return "", k.fail("expecting a property name")
	}
	key, _, err := k.str()
	if err != nil {
		return "", err
	}
	k.space()
	if k.pos >= len(k.s) || k.s[k.pos] != ':' {
		return "", k.fail("expecting ':'")
	}
	k.pos++
	k.space()
	return key, nil
}

// objNext reads the "," or "}" after a member's value.
func (k *skimmer) objNext() (end bool, err error) {
	k.space()
	if k.pos >= len(k.s) {
		return false, k.fail("unterminated object")
	}
	switch k.s[k.pos] {
	case ',':
		k.pos++
		return false, nil
	case '}':
		k.pos++
		k.depth--
		return true, nil
	}
	return false, k.fail("expecting ',' or '}'")
}

// keyText decodes a quoted key span; keys without escapes need no decoding.
func keyText(span string) string {
	inner := span[1 : len(span)-1]
	if strings.IndexByte(inner, '\\') >= 0 {
		return unescape(inner)
	}
	return inner
}

// keySet is the parameter names of a tool whose parameter set is a dict.
type keySet []string

// skimTool reads one tool line in one validating pass: its name (decoded)
// and its parameter set (a keySet for a dict, or the decoded list or
// string), or why it is not a tool the original could read. Repeated keys
// take their last value, as in a dict.
func skimTool(line string) (name, params any, err error) {
	if !utf8.ValidString(line) {
		return nil, nil, errors.New("not valid UTF-8")
	}
	k := skimmer{s: line}
	k.space()
	if k.pos >= len(line) || line[k.pos] != '{' {
		span, err := k.value()
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%s, not an object", firstType(span))
	}
	var (
		hasName, hasParams bool
		paramsObj          bool   // parameters is a dict
		keys, propKeys     keySet // its keys; the keys of its "properties"
		propsObj           bool   // "properties" is a dict
		typeSpan           string // raw "type" value ("" when absent)
	)
	end, err := k.objBegin()
	for !end && err == nil {
		var key string
		if key, err = k.objKey(); err != nil {
			break
		}
		switch keyText(key) {
		case "name":
			hasName = true
			name, err = k.decode()
		case "parameters":
			hasParams = true
			paramsObj, keys, propKeys, propsObj, typeSpan, params = false, nil, nil, false, "", nil
			if k.peek() != '{' {
				params, err = k.decode()
				break
			}
			paramsObj = true
			keys, propKeys, propsObj, typeSpan, err = k.skimParams()
		default:
			_, err = k.value()
		}
		if err == nil {
			end, err = k.objNext()
		}
	}
	if err != nil {
		return nil, nil, err
	}
	k.space()
	if k.pos != len(line) {
		return nil, nil, k.fail("extra data after the value")
	}
	if !hasName {
		return nil, nil, errors.New(`no "name"`)
	}
	if !hasParams {
		return nil, nil, errors.New(`no "parameters"`)
	}
	if !paramsObj {
		return name, params, nil
	}
	if propsObj && typeSpan != "" && typeSpan != "null" {
		return name, propKeys, nil
	}
	return name, keys, nil
}

// skimParams reads a parameters dict: its keys, the keys of its
// "properties" value when that is a dict, and its raw "type" value.
func (k *skimmer) skimParams() (keys, propKeys keySet, propsObj bool, typeSpan string, err error) {
	keys = make(keySet, 0, 4)
	end, err := k.objBegin()
	for !end && err == nil {
		var key string
		if key, err = k.objKey(); err != nil {
			break
		}
		kt := keyText(key)
		keys = append(keys, kt)
		switch {
		case kt == "properties" && k.peek() == '{':
			propsObj = true
			propKeys = make(keySet, 0, 8)
			var pend bool
			pend, err = k.objBegin()
			for !pend && err == nil {
				var pk string
				if pk, err = k.objKey(); err != nil {
					break
				}
				propKeys = append(propKeys, keyText(pk))
				if _, err = k.value(); err == nil {
					pend, err = k.objNext()
				}
			}
		case kt == "properties":
			propKeys, propsObj = nil, false
			_, err = k.value()
		case kt == "type":
			typeSpan, err = k.value()
		default:
			_, err = k.value()
		}
		if err == nil {
			end, err = k.objNext()
		}
	}
	return keys, propKeys, propsObj, typeSpan, err
}

func firstType(span string) string {
	switch span[0] {
	case '[':
		return "list"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// decodeJSON is pyjson.UnmarshalString (json.loads) for the small documents
// of tool-call bodies, without copying: strings without escapes are slices
// of s. It yields the same values and accepts the same documents.
func decodeJSON(s string) (any, error) {
	if !utf8.ValidString(s) {
		return nil, errors.New("not valid UTF-8")
	}
	k := skimmer{s: s}
	k.space()
	v, err := k.decode()
	if err != nil {
		return nil, err
	}
	k.space()
	if k.pos != len(s) {
		return nil, k.fail("extra data after the value")
	}
	return v, nil
}

// strValue reads a string, validating and decoding it in one pass; one
// without escapes is a slice of the input.
func (k *skimmer) strValue() (string, error) {
	s := k.s
	i := k.pos + 1
	i = plainRun(s, i)
	for i < len(s) && strPlain[s[i]] {
		i++
	}
	if i < len(s) && s[i] == '"' {
		v := s[k.pos+1 : i]
		k.pos = i + 1
		return v, nil
	}
	b := append(k.buf[:0], s[k.pos+1:i]...)
	for {
		if i >= len(s) {
			k.pos = i
			return "", k.fail("unterminated string")
		}
		c := s[i]
		switch {
		case c == '"':
			k.pos = i + 1
			k.buf = b
			return string(b), nil
		case c < 0x20:
			k.pos = i
			return "", k.fail("control character in string")
		case c != '\\':
			j := plainRun(s, i)
			for j < len(s) && strPlain[s[j]] {
				j++
			}
			b = append(b, s[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(s) {
			k.pos = i
			return "", k.fail("unterminated escape")
		}
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if i+4 > len(s) || !isHex4(s[i:i+4]) {
				k.pos = i - 2
				return "", k.fail("invalid \\u escape")
			}
			r := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' && isHex4(s[i+2:i+6]) {
					r2 = utf16.DecodeRune(r, hex4(s[i+2:]))
				}
				if r2 != utf8.RuneError {
					i += 6
				}
				r = r2
			}
			b = utf8.AppendRune(b, r)
		default:
			k.pos = i - 2
			return "", k.fail("invalid escape")
		}
	}
}

// unescape decodes the escapes of a validated JSON string body as pyjson
// does: a surrogate pair makes one code point, a lone surrogate (which
// Python keeps but a Go string cannot hold) becomes U+FFFD.
func unescape(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '\\')
		if j < 0 {
			b = append(b, s[i:]...)
			break
		}
		j += i
		b = append(b, s[i:j]...)
		e := s[j+1]
		i = j + 2
		switch e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(s[i+2:])); r2 != utf8.RuneError {
						r = r2
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default: // " \ /
			b = append(b, e)
		}
	}
	return string(b)
}

// hex4 reads four validated hex digits.
func hex4(s string) rune {
	var r rune
	for _, c := range []byte(s[:4]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		default:
			r = r<<4 | rune(c-'A'+10)
		}
	}
	return r
}

func (k *skimmer) decode() (any, error) {
	if k.pos >= len(k.s) {
		return nil, k.fail("expecting a value")
	}
	switch c := k.s[k.pos]; {
	case c == '{':
		return k.decodeObject()
	case c == '[':
		return k.decodeArray()
	case c == '"':
		return k.strValue()
	case c == '-' || c >= '0' && c <= '9':
		start := k.pos
		if err := k.number(); err != nil {
			return nil, err
		}
		text := k.s[start:k.pos]
		if n, ok := smallInt(text); ok {
			return n, nil
		}
		return pyjson.UnmarshalString(text)
	case k.lit("true"):
		return true, nil
	case k.lit("false"):
		return false, nil
	case k.lit("null"):
		return nil, nil
	case k.lit("NaN"):
		return math.NaN(), nil
	case k.lit("Infinity"):
		return math.Inf(1), nil
	}
	return nil, k.fail("expecting a value")
}

// smallInt parses an integer of at most 18 digits (no fraction or exponent).
func smallInt(t string) (int64, bool) {
	neg := false
	if t[0] == '-' {
		neg, t = true, t[1:]
	}
	if len(t) == 0 || len(t) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func (k *skimmer) decodeObject() (any, error) {
	k.depth++
	if k.depth > 1000 {
		return nil, k.fail("nested too deeply")
	}
	k.pos++
	o := &pyjson.Object{}
	k.space()
	if k.pos < len(k.s) && k.s[k.pos] == '}' {
		k.pos++
		k.depth--
		return o, nil
	}
	o.Members = make([]pyjson.Member, 0, 4)
	for {
		k.space()
		if k.pos >= len(k.s) || k.s[k.pos] != '"' {
			return nil, k.fail("expecting a property name")
		}
		key, err := k.strValue()
		if err != nil {
			return nil, err
		}
		k.space()
		if k.pos >= len(k.s) || k.s[k.pos] != ':' {
			return nil, k.fail("expecting ':'")
		}
		k.pos++
		k.space()
		v, err := k.decode()
		if err != nil {
			return nil, err
		}
		o.Set(key, v)
		k.space()
		if k.pos >= len(k.s) {
			return nil, k.fail("unterminated object")
		}
		switch k.s[k.pos] {
		case ',':
			k.pos++
		case '}':
			k.pos++
			k.depth--
			return o, nil
		default:
			return nil, k.fail("expecting ',' or '}'")
		}
	}
}

func (k *skimmer) decodeArray() (any, error) {
	k.depth++
	if k.depth > 1000 {
		return nil, k.fail("nested too deeply")
	}
	k.pos++
	list := []any{}
	k.space()
	if k.pos < len(k.s) && k.s[k.pos] == ']' {
		k.pos++
		k.depth--
		return list, nil
	}
	for {
		k.space()
		v, err := k.decode()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		k.space()
		if k.pos >= len(k.s) {
			return nil, k.fail("unterminated array")
		}
		switch k.s[k.pos] {
		case ',':
			k.pos++
		case ']':
			k.pos++
			k.depth--
			return list, nil
		default:
			return nil, k.fail("expecting ',' or ']'")
		}
	}
}
