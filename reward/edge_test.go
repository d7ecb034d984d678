package reward

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/star-go/star/internal/pyjson"
)

// TestEdgeCasesFromOriginal replays testdata/simrl_edge_cases.jsonl: 394
// randomized prompts, labels and queries (odd tool and parameter shapes,
// non-dict arguments, bool/int/float/None/NaN/huge values, broken JSON,
// think-tag variants, Unicode whitespace) scored once by STAR's own simrl.py
// (make_edge_cases.py). Each must score alike, to 1e-9 and with the same
// Python int/float typing, or fail where the original raises.
func TestEdgeCasesFromOriginal(t *testing.T) {
	f, err := os.Open("testdata/simrl_edge_cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	n, bad, raised := 0, 0, 0
	for sc.Scan() {
		n++
		v, err := pyjson.Unmarshal(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		o := v.(*pyjson.Object)
		get := func(k string) any { x, _ := o.Get(k); return x }
		query, prompt, label := get("query").(string), get("prompt").(string), get("label").(string)
		r, err := ScoreQuery(query, prompt, label)
		if ok := get("ok").(bool); !ok {
			raised++
			if err == nil {
				bad++
				t.Errorf("case %d: the original raises %v; got %+v\n  prompt %q\n  label %q\n  query %q", n, get("error"), r, prompt, label, query)
			}
			continue
		}
		if err != nil {
			bad++
			t.Errorf("case %d: %v; the original scores it\n  prompt %q\n  label %q\n  query %q", n, err, prompt, label, query)
			continue
		}
		check := func(name string, got float64, gotInt bool) {
			w := get(name).(*pyjson.Object)
			ty, _ := w.Get("t")
			text, _ := w.Get("v")
			want, err := strconv.ParseFloat(text.(string), 64)
			if err != nil {
				t.Fatalf("case %d: %s value %q", n, name, text)
			}
			if math.Abs(got-want) > 1e-9 || (ty == "int") != gotInt {
				bad++
				t.Errorf("case %d %s: got %v (int %v), the original %s %s (%s)\n  prompt %q\n  label %q\n  query %q",
					n, name, got, gotInt, ty, text, r.Reason, prompt, label, query)
			}
		}
		check("reward", r.Reward, r.Int)
		check("answer", r.AnswerScore, r.Int)
		check("format", r.FormatScore, true)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 390 || raised == 0 {
		t.Fatalf("%d cases (%d raising): fixture truncated?", n, raised)
	}
	if bad > 0 {
		t.Errorf("%d of %d cases differ", bad, n)
	}
}
