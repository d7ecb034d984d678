package bfcl

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

func verdicts(counts map[string][2]int) []*Verdict {
	var out []*Verdict
	for cat, c := range counts {
		for i := 0; i < c[1]; i++ {
			out = append(out, &Verdict{ID: cat + "_x", Category: cat, Valid: i < c[0]})
		}
	}
	return out
}

// TestSummaryFormulas checks eval_runner_helper's aggregates on a
// hand-computed example: Non-Live unweighted (Simple = mean of Python, Java,
// JavaScript), Live weighted by count, hallucination columns, and a category
// without verdicts shown N/A but counted as 0.
func TestSummaryFormulas(t *testing.T) {
	vs := verdicts(map[string][2]int{ // {correct, total}
		"simple": {1, 2}, "java": {1, 1}, "javascript": {0, 1}, "multiple": {1, 4}, "parallel": {2, 2},
		"parallel_multiple": {0, 1}, "irrelevance": {3, 4},
		"live_simple": {1, 2}, "live_multiple": {3, 4}, "live_parallel": {0, 1}, "live_parallel_multiple": {1, 1},
		"live_irrelevance": {1, 2}, "live_relevance": {1, 1},
	})
	s := Summarize(vs, nil)
	col := func(cs []Column, name string) Acc {
		for _, c := range cs {
			if c.Name == name {
				return c.Acc
			}
		}
		t.Fatalf("no column %q", name)
		return Acc{}
	}
	near := func(name string, got Acc, want float64) {
		t.Helper()
		if math.Abs(got.Accuracy-want) > 1e-12 || got.NA {
			t.Errorf("%s = %v (NA %v), want %v", name, got.Accuracy, got.NA, want)
		}
	}
	near("Simple AST", col(s.NonLive, "Simple AST"), 0.5)         // (0.5+1+0)/3
	near("Non-Live AST", col(s.NonLive, "AST Summary"), 0.4375)   // (0.5+0.25+1+0)/4
	near("Non-Live", col(s.NonLive, "Non_Live Overall Acc"), 0.5) // (0.5+0.25+1+0+0.75)/5
	near("Live AST", col(s.Live, "AST Summary"), 5.0/8)           // (1+3+0+1)/(2+4+1+1)
	near("Live", col(s.Live, "Live Overall Acc"), 7.0/11)         // (1+3+0+1+1+1)/11
	near("Irrelevance", col(s.Hallucination, "Irrelevance Detection"), 0.625)
	near("Relevance", col(s.Hallucination, "Relevance Detection"), 1)
	near("Overall", s.Overall, (7.0/11+0.5)/2)
	if got := col(s.Live, "Live Overall Acc").Display(); got != "63.64%" {
		t.Errorf("display %q", got)
	}

	// Without java verdicts (10 java entries in the data): Java and the
	// columns built from it show N/A, the overall columns count it as 0.
	var noJava []*Verdict
	for _, v := range vs {
		if v.Category != "java" {
			noJava = append(noJava, v)
		}
	}
	s = Summarize(noJava, map[string]int{"java": 10})
	if j := s.Category["java"]; !j.NA || j.Total != 10 || j.Display() != "N/A" {
		t.Errorf("java = %+v", j)
	}
	if a := col(s.NonLive, "Simple AST"); !a.NA || math.Abs(a.Accuracy-0.5/3) > 1e-12 {
		t.Errorf("Simple AST = %+v", a)
	}
	if a := col(s.NonLive, "AST Summary"); !a.NA {
		t.Errorf("AST Summary should be N/A: %+v", a)
	}
	near("Non-Live without java", col(s.NonLive, "Non_Live Overall Acc"), (0.5/3+0.25+1+0+0.75)/5)
}

// TestSummaryMatchesGorillaTables compares every single-turn cell of
// gorilla's data_non_live.csv, data_live.csv and data_overall.csv, made by
// its generate_leaderboard_csv from the oracle verdicts' counts
// (testdata/summary_oracle.py), with our summary of our own verdicts of the
// same responses — once with every category, once without java and
// live_relevance (N/A cells, counted 0 in the overall ones).
func TestSummaryMatchesGorillaTables(t *testing.T) {
	raw, err := os.ReadFile("testdata/summary.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]map[string]string
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	dir := fixture.Path(t, "fixtures/bfcl-sample")
	ds, err := Load(dir, Categories, true)
	if err != nil {
		t.Fatal(err)
	}
	var all []*Verdict
	for _, row := range readJSONL(t, "testdata/responses_sample.jsonl") {
		all = append(all, Score(ds.Entries[get(row, "id").(string)], get(row, "result")))
	}
	for model, drop := range map[string][]string{"all": nil, "no_java": {"java", "live_relevance"}} {
		var vs []*Verdict
		for _, v := range all {
			if !slices.Contains(drop, v.Category) {
				vs = append(vs, v)
			}
		}
		s := Summarize(vs, ds.Count)
		ours := map[string]map[string]string{"data_non_live.csv": {}, "data_live.csv": {}, "data_overall.csv": {}}
		for _, c := range s.NonLive {
			ours["data_non_live.csv"][c.Name] = c.Acc.Display()
		}
		for _, c := range s.Live {
			ours["data_live.csv"][c.Name] = c.Acc.Display()
		}
		o := ours["data_overall.csv"]
		for _, c := range s.Hallucination {
			o[c.Name] = c.Acc.Display()
		}
		o["Overall Acc"] = s.OverallV3.Display()
		col := func(cs []Column, name string) string {
			for _, c := range cs {
				if c.Name == name {
					return c.Acc.Display()
				}
			}
			return "?"
		}
		o["Non-Live AST Acc"] = col(s.NonLive, "AST Summary")
		o["Non-Live Simple AST"] = col(s.NonLive, "Simple AST")
		o["Non-Live Multiple AST"] = col(s.NonLive, "Multiple AST")
		o["Non-Live Parallel AST"] = col(s.NonLive, "Parallel AST")
		o["Non-Live Parallel Multiple AST"] = col(s.NonLive, "Parallel Multiple AST")
		o["Live Acc"] = col(s.Live, "Live Overall Acc")
		o["Live Simple AST"] = col(s.Live, "Python Simple AST")
		o["Live Multiple AST"] = col(s.Live, "Python Multiple AST")
		o["Live Parallel AST"] = col(s.Live, "Python Parallel AST")
		o["Live Parallel Multiple AST"] = col(s.Live, "Python Parallel Multiple AST")
		n := 0
		for file, cells := range ours {
			for name, got := range cells {
				w, ok := want[model][file][name]
				if !ok {
					t.Errorf("%s %s: gorilla has no column %q", model, file, name)
					continue
				}
				n++
				if got != w {
					t.Errorf("%s %s %q = %s, gorilla %s", model, file, name, got, w)
				}
			}
		}
		if n < 30 {
			t.Errorf("%s: only %d cells compared", model, n)
		}
	}
}
