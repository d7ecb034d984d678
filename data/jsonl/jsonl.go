// Package jsonl streams JSON Lines files in constant memory: a Reader that
// knows the file and line of every record, a Writer that commits its file
// atomically, and a Rejects file where records that could not be used go
// with their reason, so nothing is ever silently dropped.
package jsonl

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/star-go/star/internal/pyjson"
)

// Error is a problem with one record: "file:line: field: reason".
type Error struct {
	File   string
	Line   int
	Field  string // JSON path of the offending field, "" for the whole record
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// FieldError is a record-relative error (no file or line yet); At places it.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Errorf builds a FieldError.
func Errorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// At places err at file:line. A FieldError keeps its field; an *Error is
// returned as is; anything else becomes the reason.
func At(file string, line int, err error) *Error {
	var je *Error
	if errors.As(err, &je) {
		return je
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return &Error{File: file, Line: line, Field: fe.Field, Reason: fe.Reason}
	}
	return &Error{File: file, Line: line, Reason: err.Error()}
}

// MaxLine bounds one line so a file without newlines cannot exhaust memory.
const MaxLine = 512 << 20

// Reader reads one record per line. Blank lines are skipped.
type Reader struct {
	name    string
	br      *bufio.Reader
	closer  io.Closer
	size    int64 // file size in bytes, 0 if unknown
	offset  int64 // bytes consumed
	line    int
	buf     []byte
	err     error
	counter *countReader // compressed bytes read, for progress
}

// Open opens path ("-" is standard input); a ".gz" suffix is decompressed.
func Open(path string) (*Reader, error) {
	if path == "-" {
		return NewReader(os.Stdin, "<stdin>"), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	var r io.Reader = f
	cr := &countReader{r: f}
	r = cr
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(cr)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	}
	rd := NewReader(r, path)
	rd.closer = f
	rd.size = size
	rd.counter = cr
	return rd, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewReader reads from r; name is used in errors.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{name: name, br: bufio.NewReaderSize(r, 1<<20)}
}

// Name is the file name used in errors.
func (r *Reader) Name() string { return r.name }

// Line is the 1-based line number of the current record.
func (r *Reader) Line() int { return r.line }

// Next advances to the next non-blank line. It returns false at the end or
// on an I/O error (see Err).
func (r *Reader) Next() bool {
	if r.err != nil {
		return false
	}
	for {
		r.buf = r.buf[:0]
		for {
			chunk, err := r.br.ReadSlice('\n')
			r.buf = append(r.buf, chunk...)
			r.offset += int64(len(chunk))
			if len(r.buf) > MaxLine {
				r.err = &Error{File: r.name, Line: r.line + 1, Reason: fmt.Sprintf("line longer than %d bytes", MaxLine)}
				return false
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				if len(r.buf) == 0 {
					return false
				}
				break
			}
			if err != nil {
				r.err = fmt.Errorf("%s: %w", r.name, err)
				return false
			}
			break
		}
		r.line++
		r.buf = bytes.TrimRight(r.buf, "\r\n")
		if len(bytes.TrimSpace(r.buf)) > 0 {
			return true
		}
	}
}

// Bytes is the current line without its newline. It is valid until Next.
func (r *Reader) Bytes() []byte { return r.buf }

// Value parses the current line as JSON; errors name the file and line.
func (r *Reader) Value() (any, error) {
	if !utf8.Valid(r.buf) {
		return nil, &Error{File: r.name, Line: r.line, Reason: "line is not valid UTF-8"}
	}
	v, err := pyjson.Unmarshal(r.buf)
	if err != nil {
		return nil, &Error{File: r.name, Line: r.line, Reason: err.Error()}
	}
	return v, nil
}

// Object parses the current line, which must be a JSON object.
func (r *Reader) Object() (*pyjson.Object, error) {
	v, err := r.Value()
	if err != nil {
		return nil, err
	}
	o, ok := v.(*pyjson.Object)
	if !ok {
		return nil, &Error{File: r.name, Line: r.line, Reason: fmt.Sprintf("record is %s, want a JSON object", TypeName(v))}
	}
	return o, nil
}

// Errorf is an error at the current line.
func (r *Reader) Errorf(field, format string, args ...any) *Error {
	return &Error{File: r.name, Line: r.line, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Wrap places a record-relative error at the current line.
func (r *Reader) Wrap(err error) *Error { return At(r.name, r.line, err) }

// Progress reports bytes consumed and the file size (0 if unknown).
func (r *Reader) Progress() (done, total int64) {
	if r.counter != nil {
		return r.counter.n, r.size
	}
	return r.offset, r.size
}

// Err is the I/O error that stopped Next, if any.
func (r *Reader) Err() error { return r.err }

// Close closes the underlying file.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// TypeName names a decoded value's JSON type, for error messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "an array"
	case *pyjson.Object:
		return "an object"
	default:
		if pyjson.IsNumber(v) {
			return "a number"
		}
		return fmt.Sprintf("%T", v)
	}
}

// ParseLine parses one raw line read earlier (for parallel workers),
// with errors placed at file:line.
func ParseLine(file string, line int, raw []byte) (any, error) {
	r := &Reader{name: file, line: line, buf: raw}
	return r.Value()
}
