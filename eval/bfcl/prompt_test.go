package bfcl

import (
	"testing"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

// readJSONL reads every object of a JSONL file.
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

func get(o *pyjson.Object, k string) any { v, _ := o.Get(k); return v }

// TestPromptsMatchGorilla compares every prompt with the text gorilla's
// QwenFCHandler built for the same entry (testdata/*.prompts.jsonl, made by
// testdata/oracle.py).
func TestPromptsMatchGorilla(t *testing.T) {
	for _, c := range []struct{ dir, want string }{
		{fixture.Path(t, "fixtures/bfcl-sample"), "testdata/sample.prompts.jsonl"},
		{"testdata/extra", "testdata/extra.prompts.jsonl"},
	} {
		ds, err := Load(c.dir, Present(c.dir, Categories), false)
		if err != nil {
			t.Fatal(err)
		}
		want := readJSONL(t, c.want)
		if len(want) != len(ds.Order) {
			t.Fatalf("%s: %d entries, oracle has %d", c.dir, len(ds.Order), len(want))
		}
		for _, w := range want {
			id := get(w, "id").(string)
			e := ds.Entries[id]
			if e == nil {
				t.Fatalf("%s not loaded", id)
			}
			got, err := Prompt(e)
			if err != nil {
				t.Fatal(err)
			}
			if exp := get(w, "prompt").(string); got != exp {
				t.Errorf("%s: prompt differs\n got: %q\nwant: %q", id, got, exp)
			}
			if e.Category != get(w, "category") {
				t.Errorf("%s: category %s, want %v", id, e.Category, get(w, "category"))
			}
		}
	}
}
