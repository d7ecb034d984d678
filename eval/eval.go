// Package eval holds what the benchmark packages (eval/bfcl, eval/acebench)
// share: the responses file ({id, result, ...} rows, as the benchmarks'
// result files hold them), the output directory of a scoring run and the
// generation loop of `star eval ... run`.
package eval

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/pyjson"
)

// Response is one row of a responses file. Extra is every field but id and
// result, carried into the row's verdict so that one file can hold several
// candidates per question.
type Response struct {
	ID     string
	Result any // the raw model text; kept as decoded JSON so a bad row is a verdict, not a crash
	Extra  []pyjson.Member
	File   string
	Line   int
}

// ReadResponses reads a responses file. known reports whether an id belongs
// to the loaded data; an unknown id is an error naming the file and line.
func ReadResponses(path string, known func(id string) bool) ([]Response, error) {
	r, err := jsonl.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []Response
	for r.Next() {
		o, err := r.Object()
		if err != nil {
			return nil, err
		}
		idv, _ := o.Get("id")
		id, ok := idv.(string)
		if !ok {
			return nil, r.Errorf("id", "want a string, got %s", jsonl.TypeName(idv))
		}
		if !known(id) {
			return nil, r.Errorf("id", "unknown id %q: not in the selected categories of the data (BFCL multi-turn and ACEBench agent items are not supported)", id)
		}
		res, ok := o.Get("result")
		if !ok {
			return nil, r.Errorf("result", "missing")
		}
		resp := Response{ID: id, Result: res, File: path, Line: r.Line()}
		for _, m := range o.Members {
			if m.Key != "id" && m.Key != "result" {
				resp.Extra = append(resp.Extra, m)
			}
		}
		out = append(out, resp)
	}
	return out, r.Err()
}

// WriteJSONL writes values one per line to path, atomically.
func WriteJSONL[T any](path string, rows []T, enc func(T) any) error {
	w, err := jsonl.Create(path)
	if err != nil {
		return err
	}
	for _, row := range rows {
		if err := w.Write(enc(row)); err != nil {
			w.Abort()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return w.Close()
}

// WriteFile writes data to path atomically (temp file, rename).
func WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// WriteIndentedJSON writes v as indented JSON (json.dumps(v, indent=2)).
func WriteIndentedJSON(path string, v any) error {
	return WriteFile(path, append(pyjson.AppendIndent(nil, v, "  ", false), '\n'))
}

// WriteScore writes a benchmark's results to dir: verdicts.jsonl (one
// enc(v) per verdict), summary.json and summary.md.
func WriteScore[V any](dir string, verdicts []V, enc func(V) any, summaryJSON any, summaryMD string) error {
	if err := WriteJSONL(filepath.Join(dir, "verdicts.jsonl"), verdicts, enc); err != nil {
		return err
	}
	if err := WriteIndentedJSON(filepath.Join(dir, "summary.json"), summaryJSON); err != nil {
		return err
	}
	return WriteFile(filepath.Join(dir, "summary.md"), []byte(summaryMD))
}

// EachObject calls fn with every line of a JSONL file decoded as an object;
// fn reports bad fields through the reader (file:line: field: reason).
func EachObject(path string, fn func(*jsonl.Reader, *pyjson.Object) error) error {
	r, err := jsonl.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		o, err := r.Object()
		if err != nil {
			return err
		}
		if err := fn(r, o); err != nil {
			return err
		}
	}
	return r.Err()
}

// Present returns the categories whose data file (fileName(category)) exists
// in dir.
func Present(dir string, categories []string, fileName func(string) string) []string {
	var out []string
	for _, c := range categories {
		if _, err := os.Stat(filepath.Join(dir, fileName(c))); err == nil {
			out = append(out, c)
		}
	}
	return out
}
