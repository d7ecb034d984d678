package acebench

import (
	"strings"
	"testing"

	"github.com/star-go/star/internal/pyjson"
)

// tagged writes tuples and bytes as the oracle file does.
func tagged(v any) any {
	switch x := v.(type) {
	case Tuple:
		return pyjson.NewObject("__tuple__", tagged([]any(x)))
	case Bytes:
		return pyjson.NewObject("__bytes__", string(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = tagged(e)
		}
		return out
	case *pyjson.Object:
		o := &pyjson.Object{}
		for _, m := range x.Members {
			o.Set(m.Key, tagged(m.Value))
		}
		return o
	}
	return v
}

// sameTyped is == that also requires equal Python types (1, 1.0, True differ).
func sameTyped(a, b any) bool {
	if pyTypeName(a) != pyTypeName(b) {
		return false
	}
	switch x := a.(type) {
	case []any:
		y := b.([]any)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameTyped(x[i], y[i]) {
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
			if m.Key != y.Members[i].Key || !sameTyped(m.Value, y.Members[i].Value) {
				return false
			}
		}
		return true
	}
	return pyjson.Equal(a, b)
}

// TestParseCallsMatchesACEBench decodes 3,000 generated answer strings and
// compares with ACEBench's decode_ast (testdata/decoder_oracle.py): the
// same ones fail, and the others give the same calls and values.
func TestParseCallsMatchesACEBench(t *testing.T) {
	bad := 0
	for _, row := range readJSONL(t, "testdata/decoder.jsonl") {
		text := field(row, "text").(string)
		calls, err := ParseCalls(text)
		_, wantErr := row.Get("error")
		var got any
		if err == nil {
			list := []any{}
			for _, c := range calls {
				list = append(list, pyjson.NewObject(c.Name, c.Args))
			}
			got = tagged(list)
		}
		if wantErr != (err != nil) || (err == nil && !sameTyped(got, field(row, "result"))) {
			bad++
			if bad <= 20 {
				t.Errorf("%q:\n got %s (err %v)\nwant %s", text, pyjson.MarshalString(got), err, pyjson.MarshalString(row))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d rows differ", bad)
	}
}

func TestParseCallsCases(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[f(a='x\'y', b="q\"z", c=r'\d')]`, `[{"f": {"a": "x'y", "b": "q\"z", "c": "\\d"}}]`},
		{`[a.b.c(x=[1, {'k': (2, 3)}], y=-1.5, z=+2)]`, `[{"a.b.c": {"x": [1, {"k": [2, 3]}], "y": -1.5, "z": -2}}]`},
		{`[f(n=not True, s='ab' 'cd', e=..., m=2**10)]`, `[{"f": {"n": -1, "s": "abcd", "e": "...", "m": 1024}}]`},
		{"[f(a=1),\n g(b=true)]", `[{"f": {"a": 1}}, {"g": {"b": "true"}}]`},
	} {
		calls, err := ParseCalls(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		list := []any{}
		for _, call := range calls {
			list = append(list, pyjson.NewObject(call.Name, toJSON(call.Args)))
		}
		if got := pyjson.MarshalString(list); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	for _, in := range []string{"", "[f(a=1)", "[f(a=1) g()]", "f(a=1)", "[x]", "[f(a=lambda: 1)]", "[f(a=b'\xc3')]"} {
		if _, err := ParseCalls(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// FuzzParseCalls: the decoder never panics, and whatever it accepts is a
// list of named calls.
func FuzzParseCalls(f *testing.F) {
	for _, s := range []string{"[f(a=1)]", "[f(a='x', b=[1, {'k': None}])]", "(f(), g(a=-1))", "[a.b(c=1+2*3)]", `[f(s="\u00e9\\x")]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		calls, err := ParseCalls(s)
		if err != nil {
			return
		}
		for _, c := range calls {
			if c.Args == nil {
				t.Fatalf("%q: call %q without arguments object", s, c.Name)
			}
		}
		if strings.TrimSpace(s) == "" {
			t.Fatalf("empty input accepted")
		}
	})
}
