package bfcl

import (
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

// TestVerdictsMatchGorilla scores the committed responses (testdata/
// responses_*.jsonl, from make_responses.py and hand_cases.py) and compares
// each verdict with the one gorilla's eval_runner gave (testdata/
// *.verdicts.jsonl, from oracle.py): valid, error_type and the error list.
func TestVerdictsMatchGorilla(t *testing.T) {
	for _, c := range []struct{ dir, responses, want string }{
		{fixture.Path(t, "fixtures/bfcl-sample"), "testdata/responses_sample.jsonl", "testdata/sample.verdicts.jsonl"},
		{"testdata/extra", "testdata/responses_extra.jsonl", "testdata/extra.verdicts.jsonl"},
	} {
		ds, err := Load(c.dir, Present(c.dir, Categories), true)
		if err != nil {
			t.Fatal(err)
		}
		rows := readJSONL(t, c.responses)
		want := readJSONL(t, c.want)
		if len(rows) != len(want) {
			t.Fatalf("%d responses, %d oracle verdicts", len(rows), len(want))
		}
		bad := 0
		for i, row := range rows {
			w := want[i]
			id := get(row, "id").(string)
			if get(w, "id") != id || get(w, "case") != get(row, "case") {
				t.Fatalf("row %d: oracle row is %v/%v", i, get(w, "id"), get(w, "case"))
			}
			got := Score(ds.Entries[id], get(row, "result"))
			if exc, ok := w.Get("exception"); ok {
				if got.Valid || got.ErrorType != "checker:exception" {
					t.Errorf("%s %v: gorilla raised %v; got %+v", id, get(row, "case"), exc, got)
				}
				continue
			}
			if got.Valid != get(w, "valid") || got.ErrorType != get(w, "error_type") ||
				!pyjson.Equal(errorsOf(got), get(w, "error")) {
				bad++
				if bad <= 15 {
					t.Errorf("%s %v:\n got %v %q %s\nwant %v %q %s", id, get(row, "case"),
						got.Valid, got.ErrorType, pyjson.MarshalString(errorsOf(got)),
						get(w, "valid"), get(w, "error_type"), pyjson.MarshalString(get(w, "error")))
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d verdicts differ", c.responses, bad, len(rows))
		}
	}
}

func errorsOf(v *Verdict) []any {
	if v.Error == nil {
		return []any{}
	}
	return v.Error
}
