package world

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/eval/bfcl"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/tokenizer"
)

func generate(t *testing.T, c Config) *World {
	t.Helper()
	w, err := Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func all(w *World) []*Example {
	return slices.Concat(w.Train, w.RL, w.Test)
}

// dump is every output form of every record, as bytes.
func dump(w *World) []byte {
	var b bytes.Buffer
	for _, ex := range all(w) {
		b.Write(pyjson.Marshal(ex.Object()))
		b.Write(pyjson.Marshal(ex.BFCLQuestion()))
		if a := ex.BFCLAnswer(); a != nil {
			b.Write(pyjson.Marshal(a))
		}
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	a, b := dump(generate(t, Quick(7))), dump(generate(t, Quick(7)))
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different worlds")
	}
	if bytes.Equal(a, dump(generate(t, Quick(8)))) {
		t.Fatal("seeds 7 and 8 gave the same world")
	}
}

func TestCatalog(t *testing.T) {
	if err := checkCatalog(); err != nil {
		t.Fatal(err)
	}
	domains := map[string]bool{}
	kinds := map[string]bool{}
	defaults := 0
	for _, tool := range Catalog {
		domains[tool.Domain] = true
		for _, p := range tool.Params {
			kinds[p.Kind] = true
			if !p.Required && p.Default != nil {
				defaults++
			}
		}
	}
	if len(Catalog) < 30 || len(domains) < 8 {
		t.Errorf("%d tools in %d domains; want at least 30 in 8", len(Catalog), len(domains))
	}
	for _, k := range []string{String, Integer, Number, Boolean, Enum, Array} {
		if !kinds[k] {
			t.Errorf("no %s parameter", k)
		}
	}
	if defaults < 10 {
		t.Errorf("%d optional parameters with defaults; want at least 10", defaults)
	}
}

func TestSplitsAndMix(t *testing.T) {
	c := Full(1)
	w := generate(t, c)
	for _, s := range []struct {
		exs  []*Example
		n    int
		name string
	}{{w.Train, c.Train, Train}, {w.RL, c.RL, RL}, {w.Test, c.Test, Test}} {
		if len(s.exs) != s.n {
			t.Fatalf("%s: %d records, want %d", s.name, len(s.exs), s.n)
		}
		got := map[string]int{}
		for _, ex := range s.exs {
			got[ex.Case]++
		}
		for _, cs := range Cases {
			want := float64(s.n) * DefaultMix[cs]
			if d := float64(got[cs]) - want; d > 1 || d < -1 {
				t.Errorf("%s: %d %s records, want %.1f", s.name, got[cs], cs, want)
			}
		}
	}
	// No phrasing of the test split is used by train or RL, and no request repeats.
	seen := map[string]bool{}
	queries := map[string]string{}
	for _, ex := range slices.Concat(w.Train, w.RL) {
		for _, tm := range ex.Templates {
			seen[tm] = true
		}
	}
	for _, ex := range all(w) {
		if prev, dup := queries[ex.Query]; dup {
			t.Fatalf("%s repeats the request of %s: %q", ex.ID, prev, ex.Query)
		}
		queries[ex.Query] = ex.ID
	}
	for _, ex := range w.Test {
		if len(ex.Templates) == 0 {
			t.Fatalf("%s: no templates recorded", ex.ID)
		}
		for _, tm := range ex.Templates {
			if seen[tm] {
				t.Fatalf("%s uses %q, which training also uses", ex.ID, tm)
			}
		}
	}
}

func TestRecords(t *testing.T) {
	w := generate(t, Full(3))
	for _, ex := range all(w) {
		// Through JSON text and back, as a file reader sees it.
		v, err := pyjson.Unmarshal(pyjson.Marshal(ex.Object()))
		if err != nil {
			t.Fatal(err)
		}
		r, err := message.Parse(v)
		if err != nil {
			t.Fatalf("%s: %v", ex.ID, err)
		}
		if len(r.Messages) != 2 || r.Messages[0].Role != message.User || r.Last().Role != message.Assistant {
			t.Fatalf("%s: want [user, assistant]", ex.ID)
		}
		last := r.Last()
		if last.Reasoning() == "" {
			t.Fatalf("%s: no reasoning", ex.ID)
		}
		names := map[string]bool{}
		for _, c := range last.ToolCalls {
			names[c.Name] = true
		}
		ok := false
		switch ex.Case {
		case Simple:
			ok = len(r.Tools) == 1 && len(last.ToolCalls) == 1
		case Parallel:
			ok = len(r.Tools) == 1 && len(last.ToolCalls) >= 2
		case Multiple:
			ok = len(r.Tools) > 1 && len(last.ToolCalls) == 1
		case ParallelMultiple:
			ok = len(r.Tools) >= 2 && len(names) == 2
		case Irrelevance:
			ok = len(r.Tools) >= 1 && last.ToolCalls == nil && last.Text() != ""
		}
		if !ok {
			t.Fatalf("%s: %d tools, %d calls (%d names), content %q: not a %s case", ex.ID, len(r.Tools), len(last.ToolCalls), len(names), last.Text(), ex.Case)
		}
		// An irrelevance request never asks for a listed tool.
		for _, tool := range ex.Tools {
			if ex.Case == Irrelevance && strings.HasSuffix(ex.Reply, " "+tool.Purpose+".") {
				t.Fatalf("%s: %q, but %s is listed", ex.ID, ex.Reply, tool.Name)
			}
		}
		// Every argument is a declared parameter of the right JSON type.
		tools := r.ToolNames()
		for _, c := range last.ToolCalls {
			props := must(must(tools[c.Name].Get("parameters")).(*pyjson.Object).Get("properties")).(*pyjson.Object)
			args, _ := c.Args()
			for _, m := range args.Members {
				p, ok := props.Get(m.Key)
				if !ok {
					t.Fatalf("%s: %s has no parameter %s", ex.ID, c.Name, m.Key)
				}
				typ := must(p.(*pyjson.Object).Get("type"))
				if !jsonType(m.Value, typ.(string)) {
					t.Fatalf("%s: %s.%s = %s is not a %s", ex.ID, c.Name, m.Key, pyjson.Marshal(m.Value), typ)
				}
			}
		}
	}
}

func must(v any, _ bool) any { return v }

func jsonType(v any, typ string) bool {
	switch v.(type) {
	case string:
		return typ == "string"
	case int64:
		return typ == "integer"
	case float64:
		return typ == "number"
	case bool:
		return typ == "boolean"
	case []any:
		return typ == "array"
	}
	return false
}

// answer is the assistant turn as a model would write it: the render of the
// record after "<|im_start|>assistant\n", without "<|im_end|>".
func answer(t *testing.T, tmpl *chat.Template, ex *Example) string {
	t.Helper()
	s, err := ex.Render(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(s, "<|im_start|>assistant\n")
	return strings.TrimSuffix(s[i+len("<|im_start|>assistant\n"):], "<|im_end|>\n")
}

// The ground truth of the messages form passes BFCL's checker (eval/bfcl,
// gorilla's ast_checker) against the BFCL form, for every record; and wrong
// answers fail it.
func TestBFCLChecker(t *testing.T) {
	w := generate(t, Full(5))
	dir := t.TempDir()
	if err := Write(dir, w); err != nil {
		t.Fatal(err)
	}
	ds, err := bfcl.Load(filepath.Join(dir, "bfcl"), Cases, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Entries) != len(w.Test) {
		t.Fatalf("bfcl/ holds %d entries, the test split %d", len(ds.Entries), len(w.Test))
	}
	tmpl, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for _, ex := range all(w) {
		e := ds.Entries[ex.ID]
		if ex.Split != Test {
			e = &bfcl.Entry{ID: ex.ID, Category: ex.Case, Question: must(ex.BFCLQuestion().Get("question")).([]any),
				Function: ex.bfclDocs()}
			if a := ex.BFCLAnswer(); a != nil {
				e.Answer = must(a.Get("ground_truth")).([]any)
			}
		}
		if e == nil || e.Category != ex.Case {
			t.Fatalf("%s: no BFCL entry of category %s", ex.ID, ex.Case)
		}
		text := answer(t, tmpl, ex)
		if v := bfcl.Score(e, text); !v.Valid {
			t.Fatalf("%s: the ground truth fails the BFCL checker: %s %v\n%s", ex.ID, v.ErrorType, v.Error, text)
		}
		// A wrong answer must fail: a changed argument, a missing call, or a
		// call where none is wanted.
		var bad string
		switch {
		case ex.Calls == nil:
			bad = `<tool_call>` + "\n" + `{"name": "` + ex.Tools[0].Name + `", "arguments": {}}` + "\n</tool_call>"
		case len(ex.Calls) > 1:
			bad = text[:strings.LastIndex(text, "\n<tool_call>")]
		default:
			a := ex.Calls[0].Args[0]
			old := string(pyjson.Marshal(a.Value))
			var repl string
			switch x := a.Value.(type) {
			case string:
				repl = `"` + x + `x"`
			case int64, float64:
				repl = "12345"
			case bool:
				repl = map[bool]string{true: "false", false: "true"}[x]
			case []any:
				repl = `["zzz"]`
			}
			key := `"` + a.Name + `": ` + old
			if !strings.Contains(text, key) {
				t.Fatalf("%s: %s not in %s", ex.ID, key, text)
			}
			bad = strings.Replace(text, key, `"`+a.Name+`": `+repl, 1)
		}
		if v := bfcl.Score(e, bad); v.Valid {
			t.Fatalf("%s: a wrong answer passes the BFCL checker:\n%s", ex.ID, bad)
		}
		wrong++
	}
	if wrong != len(all(w)) {
		t.Fatal("not every record was checked")
	}
}

// With BFCLTools the records' prompts, rendered by the chat template, are
// byte for byte the prompts `star eval bfcl` sends (QwenFCHandler).
func TestBFCLToolsPrompt(t *testing.T) {
	c := Quick(2)
	c.BFCLTools = true
	w := generate(t, c)
	tmpl, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range w.Test {
		r, err := ex.Record()
		if err != nil {
			t.Fatal(err)
		}
		got, err := tmpl.Render(message.MessagesJSON(r.Messages[:1]), message.ToolsJSON(r.Tools), chat.Options{AddGenerationPrompt: true})
		if err != nil {
			t.Fatal(err)
		}
		e := &bfcl.Entry{ID: ex.ID, Category: ex.Case, Question: must(ex.BFCLQuestion().Get("question")).([]any), Function: ex.bfclDocs()}
		want, err := bfcl.Prompt(e)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%s: the chat template's prompt differs from BFCL's:\n%s\n---\n%s", ex.ID, got, want)
		}
	}
}

// Every train record renders with the chat template, and with a tokenizer
// trained on those renders (`star tokenizer train`, vocab 2048) the
// conversations stay within the budget a 2-core trainer can afford.
func TestRenderedLengths(t *testing.T) {
	w := generate(t, Full(1))
	tmpl, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(w.Train))
	tr := tokenizer.NewTrainer()
	for i, ex := range w.Train {
		if texts[i], err = ex.Render(tmpl); err != nil {
			t.Fatal(err)
		}
		tr.Add(texts[i])
	}
	b, err := tr.Train(context.Background(), tokenizer.TrainOptions{VocabSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := b.WriteDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	byCase := map[string][]int{}
	var lens []int
	for i, ex := range w.Train {
		n := len(tok.Encode(texts[i]))
		lens = append(lens, n)
		byCase[ex.Case] = append(byCase[ex.Case], n)
	}
	q := func(xs []int, p float64) int {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		return xs[min(len(xs)-1, int(p*float64(len(xs))))]
	}
	t.Logf("tokens per train record (vocab %d): p50 %d p90 %d p95 %d max %d", b.VocabSize(), q(lens, .5), q(lens, .9), q(lens, .95), q(lens, 1))
	for _, cs := range Cases {
		t.Logf("  %-18s p50 %d p95 %d max %d", cs, q(byCase[cs], .5), q(byCase[cs], .95), q(byCase[cs], 1))
	}
	if p95, mx := q(lens, .95), q(lens, 1); p95 > 448 || mx > 640 {
		t.Errorf("p95 %d, max %d tokens: over the budget (448, 640)", p95, mx)
	}
}

// Domains keeps a smaller catalogue, and every record stays inside it.
func TestDomains(t *testing.T) {
	c := Quick(4)
	c.Domains = 3
	c.Distractors = 4 // more than some cases can find: lists just stop short
	w := generate(t, c)
	if len(w.Tools) != 11 { // weather 3, travel 4, dining 4
		t.Fatalf("%d tools in 3 domains, want 11", len(w.Tools))
	}
	for _, ex := range all(w) {
		for _, tool := range ex.Tools {
			if !slices.Contains(w.Tools, tool) {
				t.Fatalf("%s lists %s, outside the 3 domains", ex.ID, tool.Name)
			}
		}
		if _, err := ex.Record(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{1, 11} {
		if _, err := Tools(n); err == nil {
			t.Errorf("Tools(%d) accepted", n)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	c := Quick(1)
	c.Mix = map[string]float64{"simpel": 1}
	if _, err := Generate(c); err == nil || !strings.Contains(err.Error(), "simpel") {
		t.Fatalf("unknown case: %v", err)
	}
	c.Mix = map[string]float64{Simple: 0}
	if _, err := Generate(c); err == nil {
		t.Fatal("an empty mix accepted")
	}
	c = Quick(1)
	c.Mix = map[string]float64{Simple: 1}
	w := generate(t, c)
	for _, ex := range all(w) {
		if ex.Case != Simple {
			t.Fatalf("mix {simple: 1} gave a %s record", ex.Case)
		}
	}
	c = Quick(1)
	c.Test = -1
	if _, err := Generate(c); err == nil {
		t.Fatal("negative size accepted")
	}
}

func TestValues(t *testing.T) {
	c := Quick(5)
	c.Values = 5
	w := generate(t, c)
	seen := map[string][]any{} // tool.param → distinct values, over every split
	for _, ex := range all(w) {
		for _, call := range ex.Calls {
			for _, a := range call.Args {
				items := []any{a.Value}
				if xs, ok := a.Value.([]any); ok {
					items = xs
				}
				key := call.Tool.Name + "." + a.Name
				if p := call.Tool.Params[slices.IndexFunc(call.Tool.Params, func(p Param) bool { return p.Name == a.Name })]; p.Kind == Enum {
					continue // the tool lists its enums: not limited
				}
				for _, v := range items {
					if !slices.ContainsFunc(seen[key], func(u any) bool { return pyjson.Equal(u, v) }) {
						seen[key] = append(seen[key], v)
					}
				}
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("no arguments")
	}
	for key, vs := range seen {
		if len(vs) > c.Values {
			t.Errorf("%s takes %d values %v, want at most %d", key, len(vs), vs, c.Values)
		}
	}
	c.Values = 3
	if _, err := Generate(c); err == nil {
		t.Error("3 values per parameter accepted (parallel cases need more)")
	}
}

func TestLexicon(t *testing.T) {
	w := generate(t, Quick(6))
	lex := w.Lexicon()
	if !slices.IsSorted(lex) || len(slices.Compact(slices.Clone(lex))) != len(lex) {
		t.Fatal("the lexicon is not sorted and unique")
	}
	for _, ex := range all(w) {
		for _, call := range ex.Calls {
			for _, a := range call.Args {
				s, ok := a.Value.(string)
				p := call.Tool.Params[slices.IndexFunc(call.Tool.Params, func(p Param) bool { return p.Name == a.Name })]
				if !ok || p.Kind != Enum && (p.Pool == "" || p.Pool == "date" || p.Pool == "time" || p.Pool == "tracking") {
					continue // numbers, dates, times, codes: digits, not words
				}
				for _, f := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
					if _, found := slices.BinarySearch(lex, f); !found {
						t.Fatalf("%s: %s=%q: %q is not in the lexicon", ex.ID, a.Name, s, f)
					}
				}
			}
		}
	}
}
