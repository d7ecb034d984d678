package bfcl

import (
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

// FuzzScore feeds arbitrary model text to every category's checker: the
// result is always a verdict (never a panic), decoding agrees with the
// block count, and a valid verdict has no error.
func FuzzScore(f *testing.F) {
	for _, s := range []string{
		"", "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
		"<tool_call>\n{\"name\": \"calculate_triangle_area\", \"arguments\": {\"base\": 10, \"height\": 5}}\n</tool_call>",
		"<tool_call>\nnot json\n</tool_call>", "<tool_call>\n[1]\n</tool_call>",
		"<tool_call>\n{\"name\": [1], \"arguments\": {\"a\": \"new int[]{1}\"}}\n</tool_call>",
	} {
		f.Add(s)
	}
	dir := fixture.Path(f, "fixtures/bfcl-sample")
	ds, err := Load(dir, Categories, true)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		calls, derr := DecodeAST(text)
		if derr == nil && len(calls) > strings.Count(text, "<tool_call>\n") {
			t.Fatalf("%d calls from %q", len(calls), text)
		}
		for _, id := range ds.Order {
			v := Score(ds.Entries[id], text)
			if v.Valid && (v.ErrorType != "" || len(v.Error) > 0) {
				t.Fatalf("%s: valid with error %v", id, v.Error)
			}
			if !v.Valid && v.ErrorType == "" {
				t.Fatalf("%s: invalid without error type", id)
			}
		}
	})
}

// FuzzConverters: the converters and the pair scanner never panic, and the
// pairs they find are pieces of the input.
func FuzzConverters(f *testing.F) {
	for _, s := range []string{"new int[]{1, 2}", "new HashMap<>() {{ put(\"a\", 1); }}", "{a: 1, b: [1, 2]}", "[[1], [2]]", "a:, :b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range []string{"integer", "long", "float", "double", "boolean", "Array", "ArrayList", "HashMap", "String"} {
			javaConvert(s, typ, "integer")
			javaConvert(s, typ, "")
		}
		for _, typ := range []string{"String", "integer", "float", "Bigint", "Boolean", "dict", "array", "any"} {
			jsConvert(s, typ, "String")
			jsConvert(s, typ, "")
		}
		for _, p := range jsPairs(s) {
			if !strings.Contains(s, p[0]) || !strings.Contains(s, p[1]) {
				t.Fatalf("pair %q not in %q", p, s)
			}
		}
	})
}
