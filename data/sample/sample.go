package sample

import (
	"fmt"
	"io"
	"strings"

	"github.com/star-go/star/internal/pyjson"
)

// Category is a stratum with its minimum share of the sample.
type Category struct {
	Name  string
	Share float64
	in    func(Label) bool
}

var (
	singleTurnShare = 0.3
	parallelShare   = 0.5
)

// Categories are STAR's strata and minimum shares (computed in float64 as
// the original's 1 - 0.3 is).
var Categories = []Category{
	{"single_turn", singleTurnShare, func(l Label) bool { return l.Turns == 1 }},
	{"multi_turn", 1 - singleTurnShare, func(l Label) bool { return l.Turns != 1 }},
	{"parallel", parallelShare, func(l Label) bool { return l.Has(TagParallel) }},
	{"single", 1 - parallelShare, func(l Label) bool { return l.Has(TagSingle) }},
	{"response", 0.2, func(l Label) bool { return l.Has(TagResponse) }},
	{"multi_step", 0.3, func(l Label) bool { return l.Has(TagMultiStep) }},
}

// MaxTurns: records whose target is past this turn are skipped.
const MaxTurns = 10

// Options configure Draw.
type Options struct {
	N    int    // sample size; 0 keeps every record the quota walk takes
	Seed uint64 // random.seed; STAR uses 42
	// PromptTokens counts a record's prompt tokens; with MaxPromptTokens > 0
	// longer prompts are dropped after the quota walk.
	PromptTokens    func(rec *pyjson.Object) (int, error)
	MaxPromptTokens int
}

// Result is a drawn sample and its bookkeeping.
type Result struct {
	Records []*pyjson.Object
	Minimum map[string]float64 // category → minimum count (share·N)
	Taken   map[string]int     // category → records taken by the quota walk
	Final   map[string]int     // category → records in the final sample
	// Walk counts: input records, skipped for turns > MaxTurns, skipped as
	// response after its quota, taken, dropped for prompt length.
	Input, SkippedTurns, SkippedResponse, TakenTotal, TooLong int
}

// Draw is STAR's stratified sampling. Records are shuffled with Python's
// random.seed(Seed); walking them in that order, a record is taken while
// fewer than 1.1·N are taken if it is not past MaxTurns, is not a text
// response once the response quota is met, and belongs to a category still
// under its minimum; it then counts in all its categories. Records whose
// prompt is longer than MaxPromptTokens are dropped; finally N are chosen
// with random.sample from the same generator (all are kept when fewer).
// With N = 0 there are no quotas: every record within MaxTurns is kept.
func Draw(recs []*pyjson.Object, opt Options) (*Result, error) {
	labels := make([]Label, len(recs))
	for i, r := range recs {
		l, err := LastLabel(r)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		labels[i] = l
	}
	res := &Result{Input: len(recs), Minimum: map[string]float64{}, Taken: map[string]int{}, Final: map[string]int{}}
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	rng := NewRand(opt.Seed)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	n := float64(opt.N)
	for _, c := range Categories {
		res.Minimum[c.Name] = c.Share * n
	}
	limit := 1.1 * n
	var taken []int
	for _, i := range order {
		if opt.N > 0 && float64(len(taken)) >= limit {
			break
		}
		l := labels[i]
		if l.Turns > MaxTurns {
			res.SkippedTurns++
			continue
		}
		if opt.N > 0 {
			if l.Has(TagResponse) && float64(res.Taken["response"]) >= res.Minimum["response"] {
				res.SkippedResponse++
				continue
			}
			need := false
			for _, c := range Categories {
				if c.in(l) && float64(res.Taken[c.Name]) < res.Minimum[c.Name] {
					need = true
					break
				}
			}
			if !need {
				continue
			}
		}
		taken = append(taken, i)
		for _, c := range Categories {
			if c.in(l) {
				res.Taken[c.Name]++
			}
		}
	}
	res.TakenTotal = len(taken)
	if opt.MaxPromptTokens > 0 && opt.PromptTokens != nil {
		kept := taken[:0]
		for _, i := range taken {
			nt, err := opt.PromptTokens(recs[i])
			if err != nil {
				return nil, fmt.Errorf("record %d: prompt tokens: %w", i, err)
			}
			if nt > opt.MaxPromptTokens {
				res.TooLong++
				continue
			}
			kept = append(kept, i)
		}
		taken = kept
	}
	if opt.N > 0 && len(taken) > opt.N {
		pick := rng.Sample(len(taken), opt.N)
		sel := make([]int, len(pick))
		for k, p := range pick {
			sel[k] = taken[p]
		}
		taken = sel
	}
	for _, i := range taken {
		res.Records = append(res.Records, recs[i])
		for _, c := range Categories {
			if c.in(labels[i]) {
				res.Final[c.Name]++
			}
		}
	}
	return res, nil
}

// Table writes each category's minimum, the quota walk's count and the
// final count.
func (r *Result) Table(w io.Writer) {
	fmt.Fprintf(w, "%-12s %10s %10s %10s\n", "category", "minimum", "taken", "final")
	for _, c := range Categories {
		mark := ""
		if float64(r.Final[c.Name]) < r.Minimum[c.Name] {
			mark = "  (under minimum)"
		}
		fmt.Fprintf(w, "%-12s %10.0f %10d %10d%s\n", c.Name, r.Minimum[c.Name], r.Taken[c.Name], r.Final[c.Name], mark)
	}
	fmt.Fprintf(w, "%s\n", strings.Repeat("-", 45))
	fmt.Fprintf(w, "input %d, skipped turns>%d: %d, skipped response over quota: %d, taken %d, prompt too long %d, sampled %d\n",
		r.Input, MaxTurns, r.SkippedTurns, r.SkippedResponse, r.TakenTotal, r.TooLong, len(r.Records))
}

// Counts is the result as JSON for reports.
func (r *Result) Counts() *pyjson.Object {
	cats := pyjson.NewObject()
	for _, c := range Categories {
		cats.Set(c.Name, pyjson.NewObject("minimum", r.Minimum[c.Name], "taken", r.Taken[c.Name], "final", r.Final[c.Name]))
	}
	return pyjson.NewObject("input", r.Input, "skipped_turns", r.SkippedTurns, "skipped_response", r.SkippedResponse,
		"taken", r.TakenTotal, "prompt_too_long", r.TooLong, "sampled", len(r.Records), "categories", cats)
}
