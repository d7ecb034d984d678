package bfcl

import (
	"fmt"
	"strings"

	"github.com/star-go/star/internal/pyjson"
)

// Acc is one score cell as eval_runner_helper keeps it: accuracy, the number
// of items behind it and whether it is shown as N/A (a category not run).
type Acc struct {
	Accuracy float64
	Total    int
	Correct  int // per category only
	NA       bool
}

// Display is the cell as gorilla's CSV writes it: "12.34%" or "N/A".
func (a Acc) Display() string {
	if a.NA {
		return "N/A"
	}
	return fmt.Sprintf("%.2f%%", a.Accuracy*100)
}

// weighted is calculate_weighted_accuracy (by item count).
func weighted(naShows bool, xs ...Acc) Acc {
	var r Acc
	var sum float64
	na := false
	for _, x := range xs {
		na = na || x.NA
		r.Total += x.Total
		sum += x.Accuracy * float64(x.Total)
	}
	if r.Total > 0 {
		r.Accuracy = sum / float64(r.Total)
	}
	r.NA = na && naShows
	return r
}

// unweighted is calculate_unweighted_accuracy (plain mean; a category not run
// counts as 0).
func unweighted(naShows bool, xs ...Acc) Acc {
	var r Acc
	na := false
	for _, x := range xs {
		na = na || x.NA
		r.Total += x.Total
		r.Accuracy += x.Accuracy
	}
	r.Accuracy /= float64(len(xs))
	r.NA = na && naShows
	return r
}

// Column is one named score.
type Column struct {
	Name string
	Acc  Acc
}

// Summary holds every single-turn column of gorilla's data_non_live.csv,
// data_live.csv and data_overall.csv.
type Summary struct {
	Category      map[string]Acc
	NonLive       []Column
	Live          []Column
	Hallucination []Column
	// Overall is the mean of the Live and Non-Live overall accuracies. It is
	// single-turn only: gorilla's "Overall Acc" also averages in Multi-Turn.
	Overall Acc
	// OverallV3 is gorilla's "Overall Acc" as its table shows it when
	// multi-turn was not run: the mean of Live, Non-Live and 0.
	OverallV3 Acc
}

// Summarize scores the verdicts per category and builds the columns.
// counts gives the number of entries of each category in the data, used
// (as gorilla does) for categories without verdicts.
func Summarize(verdicts []*Verdict, counts map[string]int) *Summary {
	s := &Summary{Category: map[string]Acc{}}
	seen := map[string]bool{}
	for _, v := range verdicts {
		a := s.Category[v.Category]
		a.Total++
		if v.Valid {
			a.Correct++
		}
		s.Category[v.Category] = a
		seen[v.Category] = true
	}
	for _, c := range Categories {
		a := s.Category[c]
		if seen[c] {
			a.Accuracy = float64(a.Correct) / float64(a.Total)
		} else {
			a = Acc{Total: counts[c], NA: true}
		}
		s.Category[c] = a
	}
	cat := func(c string) Acc { return s.Category[c] }

	simple := unweighted(true, cat("simple"), cat("java"), cat("javascript"))
	astNonLive := unweighted(true, simple, cat("multiple"), cat("parallel"), cat("parallel_multiple"))
	nonLive := unweighted(false, simple, cat("multiple"), cat("parallel"), cat("parallel_multiple"), cat("irrelevance"))
	s.NonLive = []Column{
		{"Non_Live Overall Acc", nonLive},
		{"AST Summary", astNonLive},
		{"Simple AST", simple},
		{"Python Simple AST", cat("simple")},
		{"Java Simple AST", cat("java")},
		{"JavaScript Simple AST", cat("javascript")},
		{"Multiple AST", cat("multiple")},
		{"Parallel AST", cat("parallel")},
		{"Parallel Multiple AST", cat("parallel_multiple")},
		{"Irrelevance Detection", cat("irrelevance")},
	}
	astLive := weighted(true, cat("live_simple"), cat("live_multiple"), cat("live_parallel"), cat("live_parallel_multiple"))
	live := weighted(false, cat("live_simple"), cat("live_multiple"), cat("live_parallel"), cat("live_parallel_multiple"),
		cat("live_irrelevance"), cat("live_relevance"))
	s.Live = []Column{
		{"Live Overall Acc", live},
		{"AST Summary", astLive},
		{"Python Simple AST", cat("live_simple")},
		{"Python Multiple AST", cat("live_multiple")},
		{"Python Parallel AST", cat("live_parallel")},
		{"Python Parallel Multiple AST", cat("live_parallel_multiple")},
		{"Irrelevance Detection", cat("live_irrelevance")},
		{"Relevance Detection", cat("live_relevance")},
	}
	s.Hallucination = []Column{
		{"Relevance Detection", cat("live_relevance")},
		{"Irrelevance Detection", unweighted(true, cat("irrelevance"), cat("live_irrelevance"))},
	}
	s.Overall = unweighted(true, live, nonLive)
	s.OverallV3 = unweighted(false, live, nonLive, Acc{})
	return s
}

// JSON is the summary as written to summary.json.
func (s *Summary) JSON() *pyjson.Object {
	cell := func(a Acc) *pyjson.Object {
		o := pyjson.NewObject("accuracy", a.Accuracy, "total_count", int64(a.Total), "display", a.Display())
		return o
	}
	cols := func(cs []Column) *pyjson.Object {
		o := &pyjson.Object{}
		for _, c := range cs {
			o.Set(c.Name, cell(c.Acc))
		}
		return o
	}
	cats := &pyjson.Object{}
	for _, c := range Categories {
		a := s.Category[c]
		o := cell(a)
		o.Set("correct_count", int64(a.Correct))
		cats.Set(c, o)
	}
	return pyjson.NewObject(
		"benchmark", "BFCL v3",
		"categories", cats,
		"non_live", cols(s.NonLive),
		"live", cols(s.Live),
		"hallucination", cols(s.Hallucination),
		"overall_single_turn", cell(s.Overall),
		"overall_v3_multi_turn_as_0", cell(s.OverallV3),
		"multi_turn", "not run",
		"note", "overall_single_turn = mean(Live Overall Acc, Non_Live Overall Acc); BFCL's Overall Acc also averages Multi-Turn, which is not run",
	)
}

// Markdown is the summary as tables (summary.md, and what score prints).
func (s *Summary) Markdown() string {
	var b strings.Builder
	b.WriteString("# BFCL v3 (single-turn)\n\n")
	table(&b, "Non-Live", s.NonLive)
	table(&b, "Live", s.Live)
	table(&b, "Hallucination", s.Hallucination)
	table(&b, "Overall", []Column{{"Overall Acc (single-turn only)", s.Overall}, {"BFCL v3 Overall Acc (multi-turn counted 0)", s.OverallV3}})
	b.WriteString("Multi-turn: not run (needs BFCL's Python execution backends). ")
	b.WriteString("The overall figure is the mean of Live and Non-Live only; gorilla's Overall Acc also averages Multi-Turn.\n\n")
	var rows []Column
	for _, c := range Categories {
		rows = append(rows, Column{c, s.Category[c]})
	}
	b.WriteString("## Per category\n\n| category | correct | total | accuracy |\n|---|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", r.Name, r.Acc.Correct, r.Acc.Total, r.Acc.Display())
	}
	return b.String()
}

func table(b *strings.Builder, title string, cs []Column) {
	fmt.Fprintf(b, "## %s\n\n|", title)
	for _, c := range cs {
		b.WriteString(" " + c.Name + " |")
	}
	b.WriteString("\n|")
	for range cs {
		b.WriteString("---:|")
	}
	b.WriteString("\n|")
	for _, c := range cs {
		b.WriteString(" " + c.Acc.Display() + " |")
	}
	b.WriteString("\n\n")
}
