package jsonl

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/star-go/star/internal/pyjson"
)

// Writer writes one JSON value per line. A file is written to a temporary
// name beside it and renamed into place by Close, so an interrupted run never
// leaves a half-written file under the final name.
type Writer struct {
	path string
	tmp  *os.File
	out  io.Writer
	bw   *bufio.Writer
	buf  []byte
	n    int
}

// Create opens path for writing ("-" is standard output).
func Create(path string) (*Writer, error) {
	if path == "-" || path == "" {
		return NewWriter(os.Stdout), nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	w := NewWriter(f)
	w.path, w.tmp = path, f
	return w, nil
}

// NewWriter writes to out; Close flushes but does not close out.
func NewWriter(out io.Writer) *Writer {
	return &Writer{out: out, bw: bufio.NewWriterSize(out, 1<<20)}
}

// Write appends v (any pyjson-marshalable value) as one line.
func (w *Writer) Write(v any) error {
	w.buf = pyjson.Append(w.buf[:0], v, nil)
	w.buf = append(w.buf, '\n')
	w.n++
	_, err := w.bw.Write(w.buf)
	return err
}

// WriteRaw appends one line of already-encoded JSON.
func (w *Writer) WriteRaw(line []byte) error {
	w.n++
	if _, err := w.bw.Write(line); err != nil {
		return err
	}
	return w.bw.WriteByte('\n')
}

// WriteLines appends already-encoded lines, each ending in a newline.
func (w *Writer) WriteLines(lines []byte) error {
	w.n += bytes.Count(lines, []byte{'\n'})
	_, err := w.bw.Write(lines)
	return err
}

// Count is the number of lines written.
func (w *Writer) Count() int { return w.n }

// Close flushes and, for a file, renames it into place.
func (w *Writer) Close() error {
	err := w.bw.Flush()
	if w.tmp == nil {
		return err
	}
	if err == nil {
		err = w.tmp.Sync()
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.path)
	}
	if err != nil {
		os.Remove(w.tmp.Name())
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.tmp = nil
	return nil
}

// Abort discards a file that has not been closed yet.
func (w *Writer) Abort() {
	if w.tmp != nil {
		w.tmp.Close()
		os.Remove(w.tmp.Name())
		w.tmp = nil
	}
}

// Rejects collects records that could not be used, each with the file, line
// and reason, and counts them by reason. A nil *Rejects only counts.
type Rejects struct {
	mu     sync.Mutex
	w      *Writer
	counts map[string]int
	total  int
}

// NewRejects writes rejected records to path; "" keeps counts only.
func NewRejects(path string) (*Rejects, error) {
	r := &Rejects{counts: map[string]int{}}
	if path != "" {
		w, err := Create(path)
		if err != nil {
			return nil, err
		}
		r.w = w
	}
	return r, nil
}

// Add records a rejected line: its raw text and why.
func (r *Rejects) Add(e *Error, raw []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	key := e.Reason
	if e.Field != "" {
		key = e.Field + ": " + e.Reason
	}
	r.counts[Category(key)]++
	if r.w == nil {
		return nil
	}
	o := pyjson.NewObject("file", e.File, "line", e.Line, "field", e.Field, "reason", e.Reason,
		"record", strings.ToValidUTF8(string(raw), "\uFFFD"))
	return r.w.Write(o)
}

// Total is the number of rejected records.
func (r *Rejects) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// Counts returns reason categories and counts, most frequent first.
func (r *Rejects) Counts() []ReasonCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ReasonCount, 0, len(r.counts))
	for k, n := range r.counts {
		out = append(out, ReasonCount{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// ReasonCount is one row of the rejects summary.
type ReasonCount struct {
	Reason string
	Count  int
}

// Summary is a one-line "N rejected (reason: n, ...)" text.
func (r *Rejects) Summary() string {
	counts := r.Counts()
	if len(counts) == 0 {
		return "0 rejected"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d rejected (", r.Total())
	for i, c := range counts {
		if i == 5 {
			fmt.Fprintf(&b, ", %d more reasons", len(counts)-5)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %d", c.Reason, c.Count)
	}
	b.WriteByte(')')
	return b.String()
}

// Close commits the rejects file.
func (r *Rejects) Close() error {
	if r.w == nil {
		return nil
	}
	return r.w.Close()
}

// Category turns a reason into a countable category by dropping quoted
// specifics ("unknown tool \"x\"" → "unknown tool \"…\"") and byte offsets.
func Category(reason string) string {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(reason); i++ {
		c := reason[i]
		switch {
		case c == '"' && !inQuote:
			inQuote = true
			b.WriteString(`"…"`)
		case c == '"' && inQuote:
			inQuote = false
		case inQuote:
		case c >= '0' && c <= '9':
			if b.Len() == 0 || b.String()[b.Len()-1] != '#' {
				b.WriteByte('#')
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
