package reward

import (
	"strings"
	"testing"

	"github.com/star-go/star/internal/pyjson"
)

// toolRef is skimTool by way of a full pyjson decode: the original's
// json.loads(line), tool_obj["name"], tool_obj["parameters"] and its
// "properties" rule.
func toolRef(line string) (name, params any, ok bool) {
	v, err := pyjson.UnmarshalString(line)
	if err != nil {
		return nil, nil, false
	}
	o, isObj := v.(*pyjson.Object)
	if !isObj {
		return nil, nil, false
	}
	name, hasName := o.Get("name")
	params, hasParams := o.Get("parameters")
	if !hasName || !hasParams {
		return nil, nil, false
	}
	if p, isObj := params.(*pyjson.Object); isObj {
		if props, ok := p.Get("properties"); ok {
			if po, isObj := props.(*pyjson.Object); isObj {
				if t, ok := p.Get("type"); ok && t != nil {
					return name, keySet(po.Keys()), true
				}
			}
		}
		return name, keySet(p.Keys()), true
	}
	return name, params, true
}

func sameParams(a, b any) bool {
	ka, aKeys := a.(keySet)
	kb, bKeys := b.(keySet)
	if aKeys || bKeys {
		if !aKeys || !bKeys {
			return false
		}
		// the same set (the skimmer may list a repeated key twice)
		in := func(xs keySet, x string) bool {
			for _, y := range xs {
				if y == x {
					return true
				}
			}
			return false
		}
		for _, x := range ka {
			if !in(kb, x) {
				return false
			}
		}
		for _, x := range kb {
			if !in(ka, x) {
				return false
			}
		}
		return true
	}
	return pyjson.MarshalString(a) == pyjson.MarshalString(b)
}

var toolSeeds = []string{
	`{"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"a": {"type": "string"}, "b": {}}, "required": ["a"]}}`,
	`{"name": "f", "parameters": {"a": {"type": "str, optional", "default": 1.5e3}}}`,
	`{"name": "f", "parameters": {"type": null, "properties": {"a": {}}}}`,
	`{"name": "f", "parameters": {"properties": {"a": {}}, "type": "object", "properties": [1]}}`,
	`{"name": "f", "parameters": {"properties": {"a": {}}}, "parameters": {"type": "o", "properties": {"z": 1}}}`,
	`{"name": 1, "parameters": ["a", "properties"]}`,
	`{"name": "f", "parameters": "abc"}`,
	`{"name": "f", "parameters": null}`,
	`{"name": "f"}`,
	`{"parameters": {}}`,
	`{"name": "f", "parameters": {}}x`,
	`{"name": "f", "parameters": {"a": 01}}`,
	`{"name": "f", "parameters": {"a": "\u00e9\ud83d\ude00\x"}}`,
	`{"name": "f", "parameters":`,
	`{"name": "f", "parameters": {"properties":`,
	`{"na\u006de": "f", "parameters": {"k\"q": NaN, "i": -Infinity}}`,
	`["a\nb\t\"q\"\\ \/ \b\f\r", "\ud83d\ude00", "\ud800", "\udc00\ud800x", "\ud800\u0041", "\ud83d\ud83d\ude00", "\u00E9\u00e9"]`,
	`[1]`, `"s"`, `3`, ``, `{`, `{"name": "f", "parameters": {"type": "o", "properties": {"a": 1,}}}`,
}

func TestSkimToolMatchesDecode(t *testing.T) {
	for _, s := range toolSeeds {
		checkSkim(t, s)
	}
}

func checkSkim(t *testing.T, line string) {
	name, params, err := skimTool(line)
	rn, rp, ok := toolRef(line)
	if ok && err != nil && strings.Contains(err.Error(), "4300 digits") {
		return // Python refuses what pyjson reads
	}
	if ok != (err == nil) {
		t.Fatalf("%q: skim err %v, decode ok %v", line, err, ok)
	}
	if ok && (!pyjson.Equal(name, rn) || pyjson.Repr(name) != pyjson.Repr(rn) || !sameParams(params, rp)) {
		t.Fatalf("%q: skim %v %v, decode %v %v", line, name, params, rn, rp)
	}
}

// TestIntDigitLimit: json.loads refuses integers over 4300 digits (Python
// 3.11+), so such a tool call is a format error; floats are not limited.
func TestIntDigitLimit(t *testing.T) {
	for _, c := range []struct {
		doc string
		ok  bool
	}{
		{strings.Repeat("1", 4300), true},
		{"-" + strings.Repeat("1", 4300), true},
		{strings.Repeat("1", 4301), false},
		{"[" + strings.Repeat("9", 4301) + "]", false},
		{strings.Repeat("1", 5000) + ".0", true},
		{strings.Repeat("1", 5000) + "e0", true},
	} {
		if _, err := decodeJSON(c.doc); (err == nil) != c.ok {
			t.Errorf("%.20s… (%d bytes): err %v, want ok=%v", c.doc, len(c.doc), err, c.ok)
		}
	}
	r, err := Score(stdPr, labelCalls(`{"name": "weather", "arguments": {"days": 1}}`),
		genCalls(`{"name": "weather", "arguments": {"days": `+strings.Repeat("1", 4301)+`}}`))
	if err != nil || r.Reward != -1 {
		t.Errorf("got %+v, %v; want a format error", r, err)
	}
}

func FuzzSkimTool(f *testing.F) {
	for _, s := range toolSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsRune(line, '\n') {
			return
		}
		checkSkim(t, line)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range toolSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := pyjson.UnmarshalString(s)
		got, gerr := decodeJSON(s)
		if werr == nil && gerr != nil && strings.Contains(gerr.Error(), "4300 digits") {
			return // Python refuses what pyjson reads
		}
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: pyjson err %v, decodeJSON err %v", s, werr, gerr)
		}
		if werr == nil && pyjson.MarshalString(want) != pyjson.MarshalString(got) {
			t.Fatalf("%q: pyjson %s, decodeJSON %s", s, pyjson.MarshalString(want), pyjson.MarshalString(got))
		}
	})
}
