package jsonl

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/internal/pyjson"
)

func readAll(t *testing.T, r *Reader) (lines []int, vals []string, errs []string) {
	t.Helper()
	for r.Next() {
		v, err := r.Value()
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		lines = append(lines, r.Line())
		vals = append(vals, pyjson.MarshalString(v))
	}
	if r.Err() != nil {
		errs = append(errs, r.Err().Error())
	}
	return
}

func TestReaderLinesAndErrors(t *testing.T) {
	long := `{"k": "` + strings.Repeat("x", 3<<20) + `"}`
	in := "{\"a\": 1.0}\r\n\n   \n" + long + "\n{bad\n\"\xff\"\n[1]" // no final newline
	r := NewReader(strings.NewReader(in), "in.jsonl")
	lines, vals, errs := readAll(t, r)
	if want := []int{1, 4, 7}; len(lines) != 3 || lines[0] != want[0] || lines[1] != want[1] || lines[2] != want[2] {
		t.Errorf("lines = %v, want %v", lines, want)
	}
	if vals[0] != `{"a": 1.0}` || vals[1] != long || vals[2] != "[1]" {
		t.Errorf("values = %.40q", vals)
	}
	if len(errs) != 2 || !strings.HasPrefix(errs[0], "in.jsonl:5: invalid JSON") || errs[1] != "in.jsonl:6: line is not valid UTF-8" {
		t.Errorf("errors = %q", errs)
	}
}

func TestEmptyAndObject(t *testing.T) {
	r := NewReader(strings.NewReader(""), "empty.jsonl")
	if r.Next() || r.Err() != nil {
		t.Errorf("empty file: Next true or error %v", r.Err())
	}
	r = NewReader(strings.NewReader("[1, 2]\n"), "f")
	r.Next()
	if _, err := r.Object(); err == nil || err.Error() != "f:1: record is an array, want a JSON object" {
		t.Errorf("Object() error = %v", err)
	}
}

func TestGzipAndAtomicWriter(t *testing.T) {
	dir := t.TempDir()
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte("{\"x\": 1e16}\n{\"y\": \"é\"}\n"))
	zw.Close()
	gz := filepath.Join(dir, "in.jsonl.gz")
	os.WriteFile(gz, zb.Bytes(), 0o644)
	r, err := Open(gz)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := filepath.Join(dir, "sub", "out.jsonl")
	w, err := Create(out)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		v, err := r.Value()
		if err != nil {
			t.Fatal(err)
		}
		w.Write(v)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output exists before Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if string(got) != "{\"x\": 1e+16}\n{\"y\": \"é\"}\n" {
		t.Errorf("output = %q", got)
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 1 {
		t.Errorf("temp files left: %v", ents)
	}
	w2, _ := Create(filepath.Join(dir, "aborted.jsonl"))
	w2.Write(1)
	w2.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("abort left files: %v", ents)
	}
}

func TestRejects(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rejects.jsonl")
	rj, err := NewRejects(path)
	if err != nil {
		t.Fatal(err)
	}
	rj.Add(&Error{File: "a", Line: 3, Field: "messages[1].tool_calls[0].name", Reason: `unknown tool "foo"`}, []byte("raw\xff"))
	rj.Add(&Error{File: "a", Line: 9, Field: "messages[1].tool_calls[0].name", Reason: `unknown tool "bar"`}, []byte("raw2"))
	rj.Add(At("a", 10, Errorf("", "invalid JSON at byte 12: x")), []byte("{"))
	if err := rj.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rj.Summary(); got != `3 rejected (messages[#].tool_calls[#].name: unknown tool "…": 2; invalid JSON at byte #: x: 1)` {
		t.Errorf("summary = %s", got)
	}
	data, _ := os.ReadFile(path)
	first := strings.SplitN(string(data), "\n", 2)[0]
	want := `{"file": "a", "line": 3, "field": "messages[1].tool_calls[0].name", "reason": "unknown tool \"foo\"", "record": "raw` + "\uFFFD" + `"}`
	if first != want {
		t.Errorf("rejects line = %s\nwant %s", first, want)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{File: "f.jsonl", Line: 2, Field: "messages[0].role", Reason: `unknown role "bot"`}, `f.jsonl:2: messages[0].role: unknown role "bot"`},
		{&Error{File: "f.jsonl", Line: 2, Reason: "x"}, "f.jsonl:2: x"},
		{&Error{Reason: "x"}, "x"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q want %q", got, tt.want)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add("{\"a\": 1}\n\n[1, 2.5]\r\n\"x\"")
	f.Add("\xff\n{\n}")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		r := NewReader(strings.NewReader(in), "fuzz")
		prev := 0
		for r.Next() {
			if r.Line() <= prev {
				t.Fatalf("line numbers not increasing: %d after %d", r.Line(), prev)
			}
			prev = r.Line()
			if bytes.ContainsAny(r.Bytes(), "\n") {
				t.Fatalf("line contains a newline: %q", r.Bytes())
			}
			if _, err := r.Value(); err != nil && !strings.HasPrefix(err.Error(), "fuzz:") {
				t.Fatalf("error without location: %v", err)
			}
		}
		if prev > strings.Count(in, "\n")+1 {
			t.Fatalf("more lines than in the input")
		}
	})
}
