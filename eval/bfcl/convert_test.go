package bfcl

import (
	"testing"

	"github.com/star-go/star/internal/pyjson"
)

// strictEqual is == that also requires the same Python types (1, 1.0 and
// True differ), as a converter's output must.
func strictEqual(a, b any) bool {
	if pyType(a) != pyType(b) {
		return false
	}
	switch x := a.(type) {
	case []any:
		y := b.([]any)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !strictEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case *pyjson.Object:
		y := b.(*pyjson.Object)
		if x.Len() != y.Len() {
			return false
		}
		for i, m := range x.Members {
			if y.Members[i].Key != m.Key || !strictEqual(m.Value, y.Members[i].Value) {
				return false
			}
		}
		return true
	case float64:
		if x != x {
			y := b.(float64)
			return y != y
		}
	}
	return pyjson.Equal(a, b)
}

// TestConvertersMatchGorilla runs the Java and JavaScript converters and the
// dict-pair scanner on 4,000 random inputs and compares with what gorilla's
// own converters and Python's re returned (testdata/converter_oracle.py).
func TestConvertersMatchGorilla(t *testing.T) {
	bad := 0
	for i, row := range readJSONL(t, "testdata/converters.jsonl") {
		value := get(row, "value").(string)
		want := get(row, "result")
		var got any
		var err error
		switch get(row, "kind") {
		case "pairs":
			var list []any
			for _, p := range jsPairs(value) {
				list = append(list, []any{p[0], p[1]})
			}
			if list == nil {
				list = []any{}
			}
			got = list
		case "java", "javascript":
			nested, _ := get(row, "nested").(string)
			conv := javaConvert
			if get(row, "kind") == "javascript" {
				conv = jsConvert
			}
			got, err = conv(value, get(row, "type").(string), nested)
		}
		_, wantErr := row.Get("exception")
		if wantErr != (err != nil) || (err == nil && !strictEqual(got, want)) {
			bad++
			if bad <= 20 {
				t.Errorf("row %d %v %v/%v %q:\n got %s (err %v)\nwant %s", i+1, get(row, "kind"), get(row, "type"), get(row, "nested"),
					value, pyjson.Repr(got), err, pyjson.Repr(want))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d rows differ", bad)
	}
}
