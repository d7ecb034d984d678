package pyjson

import (
	"math"
	"strings"
	"testing"
)

func TestRoundTripAsPython(t *testing.T) {
	// want is what Python prints for json.dumps(json.loads(in), ensure_ascii=False).
	tests := []struct{ in, want string }{
		{`1.0`, `1.0`},
		{`0.00001`, `1e-05`},
		{`1.5e-10`, `1.5e-10`},
		{`1e16`, `1e+16`},
		{`1E+16`, `1e+16`},
		{`-0.0`, `-0.0`},
		{`2.50`, `2.5`},
		{`3E2`, `300.0`},
		{`1e15`, `1000000000000000.0`},
		{`0.0001`, `0.0001`},
		{`123456789.123`, `123456789.123`},
		{`1e22`, `1e+22`},
		{`5e-324`, `5e-324`},
		{`1.7976931348623157e308`, `1.7976931348623157e+308`},
		{`1e400`, `Infinity`},
		{`0.1`, `0.1`},
		{`0.3333333333333333`, `0.3333333333333333`},
		{`-12.5e-7`, `-1.25e-06`},
		{`123456789012345678901234567890`, `123456789012345678901234567890`},
		{`-9223372036854775809`, `-9223372036854775809`},
		{`-0`, `0`},
		{`NaN`, `NaN`},
		{`-Infinity`, `-Infinity`},
		{`{"b": 1, "a": [true, false, null]}`, `{"b": 1, "a": [true, false, null]}`},
		{`{"a":1,"b":2,"a":3}`, `{"a": 3, "b": 2}`},
		{`"caf\u00e9 \ud83d\ude00 \n\t\"\\\/ \u0001"`, `"café 😀 \n\t\"\\/ \u0001"`},
		{`"\u007f"`, "\"\x7f\""},
		{` [ ] `, `[]`},
		{`{}`, `{}`},
	}
	for _, tt := range tests {
		v, err := UnmarshalString(tt.in)
		if err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
			continue
		}
		if got := MarshalString(v); got != tt.want {
			t.Errorf("dumps(loads(%s)) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestEnsureASCIIAndCompact(t *testing.T) {
	v, _ := UnmarshalString(`{"k": "é😀", "l": [1, 2]}`)
	got := string(Append(nil, v, &Options{EnsureASCII: true, Compact: true}))
	want := `{"k":"\u00e9\ud83d\ude00","l":[1,2]}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{``, "unexpected end"},
		{`{"a" 1}`, "expecting ':'"},
		{`{"a": 1,}`, "property name"},
		{`[1 2]`, "expecting ','"},
		{`"abc`, "unterminated"},
		{"\"a\x01\"", "control character"},
		{`01`, "leading zero"},
		{`1 2`, "extra data"},
		{`"\x"`, "invalid escape"},
		{"\"\xff\"", "UTF-8"},
		{`tru`, "unexpected character"},
		{strings.Repeat("[", 2000), "nested too deeply"},
	}
	for _, tt := range tests {
		_, err := UnmarshalString(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Unmarshal(%q) error = %v, want one containing %q", tt.in, err, tt.msg)
		}
	}
}

func TestObjectOrder(t *testing.T) {
	o := NewObject("z", 1, "a", 2)
	o.Set("m", 3)
	o.Set("z", 4)
	o.Delete("a")
	if got := o.String(); got != `{"z": 4, "m": 3}` {
		t.Errorf("got %s", got)
	}
}

func TestPythonSemantics(t *testing.T) {
	parse := func(s string) any {
		v, err := UnmarshalString(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	eq := []struct {
		a, b string
		want bool
	}{
		{`true`, `1`, true},
		{`1`, `1.0`, true},
		{`false`, `0.0`, true},
		{`"1"`, `1`, false},
		{`null`, `null`, true},
		{`[1, 2]`, `[1.0, 2]`, true},
		{`{"a": 1, "b": 2}`, `{"b": 2, "a": 1}`, true},
		{`{"a": 1}`, `{"a": 1, "b": 2}`, false},
		{`9007199254740993`, `9007199254740992.0`, false},
		{`123456789012345678901234567890`, `123456789012345678901234567890`, true},
		{`NaN`, `NaN`, false},
		{`Infinity`, `Infinity`, true},
	}
	for _, tt := range eq {
		if got := Equal(parse(tt.a), parse(tt.b)); got != tt.want {
			t.Errorf("%s == %s: got %v", tt.a, tt.b, got)
		}
	}
	reprs := []struct{ in, want string }{
		{`{"a": [1, 2.0, true, null, "x"]}`, `{'a': [1, 2.0, True, None, 'x']}`},
		{`"it's"`, `"it's"`},
		{`"it's \"q\""`, `'it\'s "q"'`},
		{`"tab\there\u0001\u00a0é"`, `'tab\there\x01\xa0é'`},
		{`1e-05`, `1e-05`},
	}
	for _, tt := range reprs {
		if got := Repr(parse(tt.in)); got != tt.want {
			t.Errorf("repr(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := Str(parse(`"plain"`)); got != "plain" {
		t.Errorf("str of a string = %q", got)
	}
	if f, ok := Float(parse(`true`)); !ok || f != 1 {
		t.Errorf("Float(true) = %v %v", f, ok)
	}
	if !math.IsInf(parse(`-Infinity`).(float64), -1) {
		t.Error("-Infinity")
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2.5, "x\u00e9"], "b": null}`, `1e16`, `-0.0`, `"\ud83d\ude00"`, `[[[]]]`, `123456789012345678901234567890`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := UnmarshalString(s)
		if err != nil {
			return
		}
		// What we print must parse back to an equal value and print the same.
		out := MarshalString(v)
		v2, err := UnmarshalString(out)
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", out, s, err)
		}
		if out2 := MarshalString(v2); out2 != out {
			t.Fatalf("not stable: %q then %q", out, out2)
		}
	})
}
