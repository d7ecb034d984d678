package bfcl

import (
	"fmt"

	"github.com/star-go/star/eval"
	"github.com/star-go/star/internal/pyjson"
)

// Verdict is the outcome for one response row. Extra holds the row's fields
// other than id and result, carried through unchanged.
type Verdict struct {
	ID        string
	Category  string
	Valid     bool
	ErrorType string
	Error     []any
	Extra     []pyjson.Member
}

// Object is the verdict as written to verdicts.jsonl.
func (v *Verdict) Object() *pyjson.Object {
	o := pyjson.NewObject("id", v.ID, "category", v.Category, "valid", v.Valid, "error_type", v.ErrorType)
	errs := v.Error
	if errs == nil {
		errs = []any{}
	}
	o.Set("error", errs)
	for _, m := range v.Extra {
		if !o.Has(m.Key) {
			o.Set(m.Key, m.Value)
		}
	}
	return o
}

// Score checks one model response (the raw text, as gorilla's result files
// hold it) against the entry, as eval_runner does for its category. result
// is a decoded JSON value; anything but a string fails to decode.
func Score(e *Entry, result any) *Verdict {
	v := &Verdict{ID: e.ID, Category: e.Category}
	text, isStr := result.(string)
	var calls []Call
	var derr error
	if isStr {
		calls, derr = DecodeAST(text)
	} else {
		derr = &DecodeError{"expected string or bytes-like object, got '" + pyType(result) + "'"}
	}
	if isRelevance(e.Category) {
		// Any decoded call counts as a call; a decode error or an empty list does not.
		contains := derr == nil && len(calls) > 0
		irrelevance := len(e.Category) >= 11 && e.Category[len(e.Category)-11:] == "irrelevance"
		v.Valid = contains != irrelevance
		switch {
		case v.Valid:
		case irrelevance:
			v.ErrorType = "irrelevance_error:decoder_success"
			v.Error = []any{"Valid syntax. Successfully decode AST when it should not."}
		default:
			msg := "None"
			if derr != nil {
				msg = derr.Error()
			}
			v.ErrorType = "relevance_error:decoder_failed"
			v.Error = []any{"Invalid syntax. Failed to decode AST when it should have. " + msg}
		}
		return v
	}
	if derr != nil {
		v.ErrorType = "ast_decoder:decoder_failed"
		v.Error = []any{"Invalid syntax. Failed to decode AST. " + derr.Error()}
		return v
	}
	r, err := check(e.Function, calls, e.Answer, language(e.Category), e.Category)
	if err != nil {
		// gorilla's run stops on these; we keep going and say why.
		v.ErrorType = "checker:exception"
		v.Error = []any{err.Error()}
		return v
	}
	v.Valid, v.ErrorType, v.Error = r.Valid, r.ErrorType, r.Error
	if v.Valid {
		v.ErrorType, v.Error = "", nil
	}
	return v
}

// ScoreResponses scores every response row, in order, carrying its extra
// fields into its verdict.
func ScoreResponses(ds *Dataset, rows []eval.Response) []*Verdict {
	out := make([]*Verdict, len(rows))
	for i, r := range rows {
		v := Score(ds.Entries[r.ID], r.Result)
		v.Extra = r.Extra
		out[i] = v
	}
	return out
}

// WriteScore writes verdicts.jsonl, summary.json and summary.md to dir and
// returns the summary.
func WriteScore(dir string, ds *Dataset, verdicts []*Verdict) (*Summary, error) {
	s := Summarize(verdicts, ds.Count)
	return s, eval.WriteScore(dir, verdicts, func(v *Verdict) any { return v.Object() }, s.JSON(), s.Markdown())
}

// ScoreFiles is `star eval bfcl score`: it loads the selected categories that
// dataDir has, scores the responses file and writes the results to outDir.
func ScoreFiles(dataDir string, categories []string, responses, outDir string) (*Summary, error) {
	present := Present(dataDir, categories)
	if len(present) == 0 {
		return nil, fmt.Errorf("%s: no BFCL_v3_<category>.json file for the selected categories", dataDir)
	}
	ds, err := Load(dataDir, present, true)
	if err != nil {
		return nil, err
	}
	rows, err := eval.ReadResponses(responses, func(id string) bool { return ds.Entries[id] != nil })
	if err != nil {
		return nil, err
	}
	return WriteScore(outDir, ds, ScoreResponses(ds, rows))
}
