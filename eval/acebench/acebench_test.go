package acebench

import (
	"testing"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/pyjson"
)

func readJSONL(t *testing.T, path string) []*pyjson.Object {
	t.Helper()
	r, err := jsonl.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*pyjson.Object
	for r.Next() {
		o, err := r.Object()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func field(o *pyjson.Object, k string) any { v, _ := o.Get(k); return v }

// TestMessagesMatchACEBench compares the chat messages with those ACEBench's
// CommonInference built for the sample (testdata/ace.messages.jsonl, made by
// testdata/oracle.py).
func TestMessagesMatchACEBench(t *testing.T) {
	ds, err := Load("testdata/data", Categories, false)
	if err != nil {
		t.Fatal(err)
	}
	want := readJSONL(t, "testdata/ace.messages.jsonl")
	if len(want) != len(ds.Order) {
		t.Fatalf("%d entries, oracle has %d", len(ds.Order), len(want))
	}
	for _, w := range want {
		id := field(w, "id").(string)
		got := Messages(ds.Entries[id])
		if !pyjson.Equal(got, field(w, "messages")) {
			t.Errorf("%s: messages differ\n got %s\nwant %s", id, pyjson.MarshalString(got), pyjson.MarshalString(field(w, "messages")))
		}
	}
}

// TestVerdictsMatchACEBench scores testdata/responses.jsonl and compares each
// verdict with eval_main's (testdata/ace.verdicts.jsonl). For responses
// that do not parse, CPython's syntax-error text is not reproduced: only
// the verdict and its error type are compared.
func TestVerdictsMatchACEBench(t *testing.T) {
	ds, err := Load("testdata/data", Categories, true)
	if err != nil {
		t.Fatal(err)
	}
	rows := readJSONL(t, "testdata/responses.jsonl")
	want := readJSONL(t, "testdata/ace.verdicts.jsonl")
	if len(rows) != len(want) {
		t.Fatalf("%d responses, %d oracle verdicts", len(rows), len(want))
	}
	bad := 0
	for i, row := range rows {
		w := want[i]
		id := field(row, "id").(string)
		got := Score(ds.Entries[id], field(row, "result"))
		var ok bool
		if exc, raised := w.Get("exception"); raised {
			ok = !got.Valid && got.ErrorType == "checker:exception"
			_ = exc
		} else {
			ok = got.Valid == field(w, "valid") && (got.Valid || got.ErrorType == field(w, "error_type"))
			if ok && !got.Valid && got.ErrorType != "wrong_output_format" {
				ok = pyjson.Equal(toJSON(got.Error), field(w, "error"))
			}
		}
		if !ok {
			bad++
			if bad <= 25 {
				t.Errorf("%s %v %q:\n got %v %q %s\nwant %s", id, field(row, "case"), field(row, "result"), got.Valid, got.ErrorType,
					pyjson.MarshalString(toJSON(got.Error)), pyjson.MarshalString(w))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d verdicts differ", bad, len(rows))
	}
}
