package reward

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/star-go/star/internal/pyjson"
)

// promptWith renders a Qwen3-style prompt with one JSON tool per line.
func promptWith(tools ...string) string {
	var b strings.Builder
	b.WriteString("<|im_start|>system\n# Tools\n\n<tools>\n")
	for _, t := range tools {
		b.WriteString(t + "\n")
	}
	b.WriteString("</tools><|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>")
	return b.String()
}

func callsText(calls ...string) string {
	var b strings.Builder
	for i, c := range calls {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("<tool_call>\n" + c + "\n</tool_call>")
	}
	return b.String()
}

func labelCalls(calls ...string) string { return "</think>" + callsText(calls...) + "<|im_end|>\n" }
func genCalls(calls ...string) string {
	return "\nok\n</think>\n\n" + callsText(calls...) + "<|im_end|>"
}

var (
	weather = `{"name": "weather", "description": "d", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "unit": {"type": "string"}}}}`
	flat    = `{"name": "search", "parameters": {"query": {"type": "str"}, "limit": {"type": "int, optional"}}}`
	stdPr   = promptWith(weather, flat)
)

func score(t *testing.T, prompt, label, gen string) Result {
	t.Helper()
	r, err := Score(prompt, label, gen)
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	return r
}

func TestRules(t *testing.T) {
	paris := `{"name": "weather", "arguments": {"city": "Paris", "days": 3}}`
	rome := `{"name": "weather", "arguments": {"city": "Rome", "days": 3}}`
	cases := []struct {
		name        string
		prompt      string
		label, gen  string
		want        float64
		format      float64
		int         bool
		reasonMatch string
	}{
		{"exact", stdPr, labelCalls(paris), genCalls(paris), 1, 1, false, ""},
		{"empty think", stdPr, labelCalls(paris), "</think>" + callsText(paris), 1, 1, false, ""},
		{"no </think>", stdPr, labelCalls(paris), "thinking " + callsText(paris), -1, -1, true, "0 <think>"},
		{"two think pairs", stdPr, labelCalls(paris), "a</think><think>b</think>" + callsText(paris), -1, -1, true, "2 <think>"},
		{"extra </think> is fine", stdPr, labelCalls(paris), "a</think> x </think>" + callsText(paris), 1, 1, false, ""},
		{"bad json", stdPr, labelCalls(paris), genCalls(`{"name": "weather", "arguments": {"city": "Paris",}}`), -1, -1, true, "tool call 1"},
		{"no arguments key", stdPr, labelCalls(paris), genCalls(`{"name": "weather"}`), -1, -1, true, `no "arguments"`},
		{"body is a list", stdPr, labelCalls(paris), genCalls(`[1, 2]`), -1, -1, true, "not an object"},
		{"unknown tool", stdPr, labelCalls(paris), genCalls(`{"name": "weathr", "arguments": {}}`), -1, -1, true, "unknown tool"},
		{"unknown arg", stdPr, labelCalls(paris), genCalls(`{"name": "weather", "arguments": {"town": "Paris"}}`), -1, -1, true, "unknown argument 'town'"},
		{"flat params", stdPr, labelCalls(`{"name": "search", "arguments": {"query": "x"}}`), genCalls(`{"name": "search", "arguments": {"query": "x", "limit": 5}}`), 0.5, 1, false, ""},
		{"flat param key 'type' is not a param", stdPr, labelCalls(paris), genCalls(`{"name": "weather", "arguments": {"type": "x"}}`), -1, -1, true, "unknown argument"},
		{"args not iterable", stdPr, labelCalls(paris), genCalls(`{"name": "weather", "arguments": 5}`), -1, -1, true, "arguments is a int"},
		{"args list of names", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": 3}}`), genCalls(`{"name": "weather", "arguments": ["city"]}`), 0, 1, false, ""},
		{"label calls, generation text", stdPr, labelCalls(paris), "</think>It is sunny.<|im_end|>", 0, 1, true, ""},
		{"label calls, unterminated call", stdPr, labelCalls(paris), "</think><tool_call>{\"name\": \"weather\"", 0, 1, true, ""},
		{"wrong valid tool", stdPr, labelCalls(paris), genCalls(`{"name": "search", "arguments": {"query": "Paris"}}`), 0, 1, false, ""},
		{"call duplicated", stdPr, labelCalls(paris), genCalls(paris, paris), 0.5, 1, false, ""},
		{"call missing", stdPr, labelCalls(paris, rome), genCalls(paris), 0.5, 1, false, ""},
		{"order reversed", stdPr, labelCalls(paris, rome), genCalls(rome, paris), 1, 1, false, ""},
		// greedy: the first prediction takes its best match even if that
		// leaves the second one worse off; ties go to the first label call.
		{"greedy first max", stdPr,
			labelCalls(`{"name": "weather", "arguments": {"city": "Paris", "days": 3}}`, `{"name": "weather", "arguments": {"city": "Paris", "days": 4}}`),
			genCalls(`{"name": "weather", "arguments": {"city": "Paris"}}`, `{"name": "weather", "arguments": {"city": "Paris", "days": 3}}`),
			(0.5 + 0.5) / 2, 1, false, ""},
		{"arg dropped", stdPr, labelCalls(paris), genCalls(`{"name": "weather", "arguments": {"city": "Paris"}}`), 0.5, 1, false, ""},
		{"both args empty", stdPr, labelCalls(`{"name": "weather", "arguments": {}}`), genCalls(`{"name": "weather", "arguments": {}}`), 1, 1, false, ""},
		{"True == 1 == 1.0", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": 1}}`), genCalls(`{"name": "weather", "arguments": {"days": true}}`), 1, 1, false, ""},
		{"1 == 1.0", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": 1}}`), genCalls(`{"name": "weather", "arguments": {"days": 1.0}}`), 1, 1, false, ""},
		{"2 != 2.5", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": 2}}`), genCalls(`{"name": "weather", "arguments": {"days": 2.5}}`), 0, 1, false, ""},
		{"str(5) == '5'", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": 5}}`), genCalls(`{"name": "weather", "arguments": {"days": "5"}}`), 1, 1, false, ""},
		{"str(True) == 'True'", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": "True"}}`), genCalls(`{"name": "weather", "arguments": {"days": true}}`), 1, 1, false, ""},
		{"str(1.0) != '1'", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": "1"}}`), genCalls(`{"name": "weather", "arguments": {"days": 1.0}}`), 0, 1, false, ""},
		{"str(None)", stdPr, labelCalls(`{"name": "weather", "arguments": {"unit": "None"}}`), genCalls(`{"name": "weather", "arguments": {"unit": null}}`), 1, 1, false, ""},
		{"lists compare by ==", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": [1, 2]}}`), genCalls(`{"name": "weather", "arguments": {"days": [1.0, true, 2][0:0]}}`), -1, -1, true, "tool call 1"},
		{"list ==", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": [1, 2]}}`), genCalls(`{"name": "weather", "arguments": {"days": [1, 2]}}`), 1, 1, false, ""},
		{"list str() differs for 1 vs 1.0", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": [1, 2]}}`), genCalls(`{"name": "weather", "arguments": {"days": [1.0, 2]}}`), 0, 1, false, ""},
		{"dict str() keeps key order", stdPr, labelCalls(`{"name": "weather", "arguments": {"days": {"a": 1, "b": 2}}}`), genCalls(`{"name": "weather", "arguments": {"days": {"b": 2, "a": 1}}}`), 0, 1, false, ""},
		{"string arg by ROUGE-L", stdPr, labelCalls(`{"name": "weather", "arguments": {"city": "New York City"}}`), genCalls(`{"name": "weather", "arguments": {"city": "new york"}}`), 0.8, 1, false, ""},
		{"text reply identical", promptWith(), "</think>Hello there.<|im_end|>\n", "</think>Hello there.<|im_end|>\n", 1, 1, true, ""},
		{"text reply with <|im_end|> left in", promptWith(), "</think>Hello there.<|im_end|>\n", "</think>Hello there<|im_end|>", 1, 1, false, ""},
		{"text reply vs blank", promptWith(), "</think>Hello there.<|im_end|>\n", "</think>  \n", 0, 1, true, ""},
		{"text label, generation calls", stdPr, "</think>Hello.<|im_end|>\n", genCalls(paris), 0, 1, true, ""},
		{"text reply no tokens", promptWith(), "</think>!!!\n", "</think>???", 0, 1, false, ""},
		{"no tools block: any call is unknown", "<|im_start|>assistant\n<think>", labelCalls(paris), genCalls(paris), -1, -1, true, "unknown tool"},
		{"marker inside generation", stdPr, labelCalls(paris), "junk</think><|im_start|>assistant\n<think></think>" + callsText(paris), 1, 1, false, ""},
		{"marker split across prompt and generation", strings.TrimSuffix(stdPr, "assistant\n<think>") + "assis", labelCalls(paris), "tant\n<think></think>" + callsText(paris), 1, 1, false, ""},
		{"tool name 1 matches call name true", promptWith(`{"name": 1, "parameters": {}}`), labelCalls(`{"name": 1, "arguments": {}}`), genCalls(`{"name": true, "arguments": {}}`), 1, 1, false, ""},
		{"parameters as a list", promptWith(`{"name": "f", "parameters": ["a", "b"]}`), labelCalls(`{"name": "f", "arguments": {"a": 1}}`), genCalls(`{"name": "f", "arguments": {"b": 1}}`), 0, 1, false, ""},
		// list arguments: `0 in [0, 7]`, [0, 7].pop(0) → 0, p_args[0] → 0: 1 of 1+1
		{"label arguments a list", promptWith(`{"name": "f", "parameters": [0, 1]}`), labelCalls(`{"name": "f", "arguments": [0, 7]}`), genCalls(`{"name": "f", "arguments": [0]}`), 0.5, 1, false, ""},
		{"parameters as a string: substring test", promptWith(`{"name": "f", "parameters": "abc"}`), labelCalls(`{"name": "f", "arguments": {"ab": 1}}`), genCalls(`{"name": "f", "arguments": {"bc": 1}}`), 0, 1, false, ""},
		{"properties without type: parameters itself", promptWith(`{"name": "f", "parameters": {"properties": {"x": {}}}}`), labelCalls(`{"name": "f", "arguments": {}}`), genCalls(`{"name": "f", "arguments": {"x": 1}}`), -1, -1, true, "unknown argument"},
		{"type null: parameters itself", promptWith(`{"name": "f", "parameters": {"type": null, "properties": {"x": {}}}}`), labelCalls(`{"name": "f", "arguments": {"properties": 1}}`), genCalls(`{"name": "f", "arguments": {"properties": 1}}`), 1, 1, false, ""},
		{"last <tools> block wins", promptWith(`{"name": "old", "parameters": {}}`) + "<tools>\n" + flat + "\n</tools>", labelCalls(`{"name": "search", "arguments": {}}`), genCalls(`{"name": "old", "arguments": {}}`), -1, -1, true, "unknown tool"},
		{"repeated tool name: last parameters", promptWith(`{"name": "f", "parameters": {"a": {}}}`, `{"name": "f", "parameters": {"b": {}}}`), labelCalls(`{"name": "f", "arguments": {"b": 1}}`), genCalls(`{"name": "f", "arguments": {"a": 1}}`), -1, -1, true, "unknown argument"},
		{"duplicate JSON key: last value", stdPr, labelCalls(paris), genCalls(`{"name": "nope", "arguments": {}, "name": "weather"}`), 0, 1, false, ""},
		{"unicode whitespace strip", promptWith(), "</think>\u3000Hi\x1c<|im_end|>\n", "</think>Hi<|im_end|>\u00a0", 1, 1, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := score(t, c.prompt, c.label, c.gen)
			if math.Abs(r.Reward-c.want) > 1e-9 || r.FormatScore != c.format || r.Int != c.int {
				t.Errorf("got reward %v format %v int %v (%s), want %v %v %v", r.Reward, r.FormatScore, r.Int, r.Reason, c.want, c.format, c.int)
			}
			want := c.want
			if c.format < 0 {
				want = 0
			}
			if r.AnswerScore != want && math.Abs(r.AnswerScore-want) > 1e-9 {
				t.Errorf("answer score %v, want %v", r.AnswerScore, want)
			}
			if c.reasonMatch != "" && !strings.Contains(r.Reason, c.reasonMatch) {
				t.Errorf("reason %q does not mention %q", r.Reason, c.reasonMatch)
			}
		})
	}
}

// TestInputErrors: inputs the original raises on (the whole batch fails).
func TestInputErrors(t *testing.T) {
	paris := `{"name": "weather", "arguments": {"city": "Paris"}}`
	for _, c := range []struct{ name, prompt, label, gen, field string }{
		{"label without </think>", stdPr, callsText(paris), genCalls(paris), "label"},
		{"label with two </think>", stdPr, "</think></think>" + callsText(paris), genCalls(paris), "label"},
		{"label call not JSON", stdPr, labelCalls(`{"name": `), genCalls(paris), "label"},
		{"label call without name", stdPr, labelCalls(`{"arguments": {}}`), genCalls(paris), "label"},
		{"tool line not JSON", promptWith(`{"name": "f", "parameters": {}`), labelCalls(paris), genCalls(paris), "prompt"},
		{"tool without parameters", promptWith(`{"name": "f"}`), labelCalls(paris), genCalls(paris), "prompt"},
		{"tool parameters null", promptWith(`{"name": "f", "parameters": null}`), labelCalls(paris), genCalls(paris), "prompt"},
		{"tool name a list", promptWith(`{"name": ["f"], "parameters": {}}`), labelCalls(paris), genCalls(paris), "prompt"},
		{"tool line a list", promptWith(`[1]`), labelCalls(paris), genCalls(paris), "prompt"},
		{"parameters string mentioning properties", promptWith(`{"name": "f", "parameters": "properties"}`), labelCalls(paris), genCalls(paris), "prompt"},
		{"label arguments a string", stdPr, labelCalls(`{"name": "weather", "arguments": "x"}`), genCalls(paris), "arguments"},
		{"predicted list arguments sharing a label key", stdPr, labelCalls(paris), genCalls(`{"name": "weather", "arguments": ["city"]}`), "arguments"},
		{"label <tool_call> without calls, text generation", stdPr, "</think><tool_call> oops", "</think>hello", "label"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Score(c.prompt, c.label, c.gen)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != c.field {
				t.Fatalf("err = %v, want an InputError on %s", err, c.field)
			}
		})
	}
}

func TestROUGE(t *testing.T) {
	r := newRouge()
	for _, c := range []struct {
		target, pred string
		want         float64
	}{
		{"the cat sat", "the cat sat", 1},
		{"", "x", 0},
		{"!!!", "abc", 0},
		{"running dogs", "the dog runs", 0.4}, // [run dog] vs [the dog run]: LCS 1
		{"New-York_City", "new york city", 1},
		{"a b c d", "d c b a", 0.25},
		{"İstanbul", "i stanbul", 1}, // İ lowercases to i + combining dot
		{"\u212Aelvin", "kelvin", 1}, // Kelvin sign lowercases to k
		{"café", "caf", 1},           // é is not [a-z0-9]
		{"x1y2 3rd", "X1Y2 3RD", 1},
		{"generalizations", "generalization", 1},
	} {
		if got := r.f1(c.target, c.pred); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("f1(%q, %q) = %v, want %v", c.target, c.pred, got, c.want)
		}
	}
}

func TestPyStrip(t *testing.T) {
	for in, want := range map[string]string{
		" \t\n\r\v\f x \x1c\x1d\x1e\x1f":                                      "x",
		"\u0085\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000x\u3000": "x",
		"\u200bx\u200b": "\u200bx\u200b", // zero-width space is not whitespace
		"":              "",
	} {
		if got := pyStrip(in); got != want {
			t.Errorf("pyStrip(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDecodeJSONMatchesPyjson: the zero-copy decoder yields pyjson's values
// and rejects what it rejects.
func TestDecodeJSONMatchesPyjson(t *testing.T) {
	docs := []string{
		`{"a": 1, "b": [1.0, true, null, "x\u00e9\n"], "a": 2}`, ` 12345678901234567890 `, `-0`, `1e5`, `1E+2`,
		`-Infinity`, `NaN`, `[1,]`, `{"a":1,}`, `01`, `1.`, `1e`, `"\ud800"`, `"a` + "\x01" + `"`, `{"a" 1}`,
		`[]`, `{}`, `[[[]]]`, `"\/"`, `"\x"`, `tru`, `{"k\"ey": -1.5e-7}`, `123456789012345678`, `-999999999999999999`,
	}
	for _, d := range docs {
		want, werr := pyjson.UnmarshalString(d)
		got, gerr := decodeJSON(d)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%q: pyjson err %v, decodeJSON err %v", d, werr, gerr)
			continue
		}
		if werr == nil && pyjson.MarshalString(want) != pyjson.MarshalString(got) {
			t.Errorf("%q: pyjson %s, decodeJSON %s", d, pyjson.MarshalString(want), pyjson.MarshalString(got))
		}
	}
}

// TestBatchForms: ScoreBatch and ScoreBatchParallel on queries (prompt +
// generation) agree with Score on every fixture row.
func TestBatchForms(t *testing.T) {
	vs := loadVectors(t)
	var q, p, l []string
	for _, v := range vs {
		q = append(q, v.Prompt+v.Generation)
		p = append(p, v.Prompt)
		l = append(l, v.Label)
	}
	seq, err := ScoreBatch(q, p, l)
	if err != nil {
		t.Fatal(err)
	}
	par, err := ScoreBatchParallel(t.Context(), 4, q, p, l)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		want, _ := Score(v.Prompt, v.Label, v.Generation)
		// a query whose prompt is not a prefix takes the slow path
		slow, err := NewScorer().ScoreQuery("x"+q[i], p[i], l[i])
		if err != nil {
			t.Fatal(err)
		}
		if seq[i] != want || par[i] != want || slow != want {
			t.Errorf("row %d %s/%s: batch %+v, parallel %+v, slow %+v, Score %+v", i, v.Case, v.ID, seq[i], par[i], slow, want)
		}
	}
	if _, err := ScoreBatch(q, p[:1], l); err == nil {
		t.Error("mismatched lengths accepted")
	}
	bad := append([]string(nil), l...)
	bad[100] = "no think"
	_, err = ScoreBatchParallel(t.Context(), 4, q, p, bad)
	var be *BatchError
	if !errors.As(err, &be) || be.Index != 100 {
		t.Errorf("err = %v, want a BatchError at row 100", err)
	}
}
