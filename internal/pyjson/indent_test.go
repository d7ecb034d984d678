package pyjson

import "testing"

// Expectations are Python 3 json.dumps(v, indent=..., ensure_ascii=...) output.
func TestAppendIndent(t *testing.T) {
	cases := []struct {
		in, indent string
		ascii      bool
		want       string
	}{
		{`[1, 2]`, "  ", false, "[\n  1,\n  2\n]"},
		{`{}`, "  ", false, `{}`},
		{`[]`, "  ", false, `[]`},
		{`{"a": []}`, "  ", false, "{\n  \"a\": []\n}"},
		{`{"b": {"c": [1.0, null, true]}, "a": "é"}`, "    ", false,
			"{\n    \"b\": {\n        \"c\": [\n            1.0,\n            null,\n            true\n        ]\n    },\n    \"a\": \"é\"\n}"},
		{`{"a": "é"}`, "\t", true, "{\n\t\"a\": \"\\u00e9\"\n}"},
		{`[1, [2]]`, "", false, "[\n1,\n[\n2\n]\n]"},
		{`"x"`, "  ", false, `"x"`},
		{`12345678901234567890123`, "  ", false, `12345678901234567890123`},
	}
	for _, c := range cases {
		v, err := UnmarshalString(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(AppendIndent(nil, v, c.indent, c.ascii)); got != c.want {
			t.Errorf("AppendIndent(%s, %q) = %q, want %q", c.in, c.indent, got, c.want)
		}
	}
}
