package acebench

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/star-go/star/eval"
	"github.com/star-go/star/internal/pyjson"
)

// Messages are the chat messages ACEBench's CommonInference sends a local
// model for a single-turn item (language "en"): a system prompt with the
// time or the profile and the function list as Python prints it (str() of
// the list: single quotes, True, None), then the dialogue as one user turn.
func Messages(e *Entry) []any {
	fns := e.Function
	switch fns.(type) {
	case *pyjson.Object, string:
		fns = []any{fns}
	}
	category := e.ID
	if i := strings.LastIndexByte(category, '_'); i >= 0 {
		category = category[:i]
	}
	var system string
	switch {
	case strings.Contains(category, "special"):
		system = format(promptSpecial, "time", pyStr(e.Time), "function", pyStr(fns))
	case strings.Contains(category, "preference"):
		system = format(promptPreference, "profile", pyStr(e.Profile), "function", pyStr(fns))
	default:
		system = format(promptNormal, "time", pyStr(e.Time), "function", pyStr(fns))
	}
	return []any{
		pyjson.NewObject("role", "system", "content", system),
		pyjson.NewObject("role", "user", "content", "Conversation history 1..t:\n"+pyStr(e.Question)),
	}
}

// format is str.format with named fields (the prompts have no other braces).
func format(tmpl string, kv ...string) string {
	var pairs []string
	for i := 0; i < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}

// Verdict is the outcome of one response row.
type Verdict struct {
	ID        string
	Category  string
	Valid     bool
	ErrorType string
	Error     any
	Extra     []pyjson.Member
}

// Object is the verdict as written to verdicts.jsonl.
func (v *Verdict) Object() *pyjson.Object {
	errs := v.Error
	if errs == nil {
		errs = []any{}
	}
	o := pyjson.NewObject("id", v.ID, "category", v.Category, "valid", v.Valid, "error_type", v.ErrorType, "error", toJSON(errs))
	for _, m := range v.Extra {
		if !o.Has(m.Key) {
			o.Set(m.Key, m.Value)
		}
	}
	return o
}

// toJSON turns tuples into lists for writing.
func toJSON(v any) any {
	switch x := v.(type) {
	case Tuple:
		return toJSON([]any(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSON(e)
		}
		return out
	case *pyjson.Object:
		o := &pyjson.Object{Members: make([]pyjson.Member, len(x.Members))}
		for i, m := range x.Members {
			o.Members[i] = pyjson.Member{Key: m.Key, Value: toJSON(m.Value)}
		}
		return o
	}
	return v
}

// outermostBrackets is extract_outermost_bracket_content: the first
// balanced [...] by bracket counting (quotes are not special), ok=false
// when there is none.
func outermostBrackets(s string) (string, bool) {
	start, depth := -1, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			if depth == 0 {
				start = i
			}
			depth++
		case ']':
			depth--
			if depth == 0 && start != -1 {
				return s[start : i+1], true
			}
		}
	}
	return "", false
}

// dropSpace is "".join(s.split()): every whitespace character removed.
func dropSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == 0x1c || r == 0x1d || r == 0x1e || r == 0x1f {
			return -1
		}
		return r
	}, s)
}

// Score checks one raw model response as eval_main does for the entry's
// category.
func Score(e *Entry, response any) (v *Verdict) {
	v = &Verdict{ID: e.ID, Category: e.Category}
	defer func() {
		if p := recover(); p != nil {
			// The original stops here; we keep the reason.
			v.Valid, v.ErrorType, v.Error = false, "checker:exception", []any{fmt.Sprint(p)}
		}
	}()
	text, isStr := response.(string)
	if strings.HasPrefix(e.Category, "special") {
		if !isStr {
			raise("TypeError: argument of type '%s' is not iterable", pyTypeName(response))
		}
		scoreSpecial(v, e, text)
		return v
	}
	var calls []Call
	var err error
	switch {
	case !isStr:
		err = fmt.Errorf("expected a string, got %s", pyTypeName(response))
	case strings.Contains(e.Category, "normal_multi_turn"):
		calls, err = ParseCalls(dropSpace(text))
	default:
		raw, found := outermostBrackets(text)
		if !found {
			err = fmt.Errorf("compile() arg 1 must be a string, bytes or AST object")
		} else {
			calls, err = ParseCalls(raw)
		}
	}
	if err != nil {
		v.ErrorType = "wrong_output_format"
		v.Error = []any{"Invalid syntax. Failed to decode AST. " + err.Error()}
		return v
	}
	alternatives, isList := e.Answer.([]any)
	if !isList {
		alternatives = []any{e.Answer}
	}
	var first *result
	for _, alt := range alternatives {
		r := normalCheck(e.Function, calls, asObject(alt), e.Category)
		if r.Valid {
			v.Valid = true
			return v
		}
		if first == nil {
			first = &r
		}
	}
	if first != nil {
		v.ErrorType, v.Error = first.ErrorType, first.Error
	}
	return v
}

// scoreSpecial is special_eval: the response must name the problem.
func scoreSpecial(v *Verdict, e *Entry, text string) {
	v.Valid = true
	switch {
	case strings.Contains(e.Category, "incomplete"), strings.Contains(e.Category, "error"):
		marker, what := "Missing necessary parameters", "is missing necessary parameters (%s) for the (%s)"
		if !strings.Contains(e.Category, "incomplete") {
			marker, what = "There is incorrect value", "contains incorrect values (%s) of the parameters (%s)"
		}
		for _, m := range asObject(e.Answer).Members {
			msg := func(values any) string {
				return "The user's instruction " + fmt.Sprintf(what, pyStr(values), m.Key) + ", but the model failed to correctly point it out"
			}
			switch {
			case !strings.Contains(text, marker):
				v.Valid, v.ErrorType, v.Error = false, "error_detection", []any{msg(m.Value)}
			case strings.Contains(e.Category, "incomplete") && !strings.Contains(text, m.Key):
				v.Valid, v.ErrorType, v.Error = false, "error_correction", []any{msg(m.Value)}
			default:
				for _, value := range pyIter(m.Value) {
					if !pyIn(value, text) {
						shown := m.Value
						if strings.Contains(e.Category, "incomplete") {
							shown = value
						}
						v.Valid, v.ErrorType, v.Error = false, "error_correction", []any{msg(shown)}
					}
				}
			}
		}
	case strings.Contains(e.Category, "irrelevant"):
		if !strings.Contains(text, "the limitations of the function") {
			v.Valid, v.ErrorType = false, "error_detection"
			v.Error = []any{"The model cannot solve this problem, due to the limitations of the function"}
		}
	}
}

// ScoreResponses scores every row in order, carrying its extra fields.
func ScoreResponses(ds *Dataset, rows []eval.Response) []*Verdict {
	out := make([]*Verdict, len(rows))
	for i, r := range rows {
		v := Score(ds.Entries[r.ID], r.Result)
		v.Extra = r.Extra
		out[i] = v
	}
	return out
}

// Column is one named score.
type Column struct {
	Name     string
	Accuracy float64
	Total    int
	NotRun   bool
}

// Summary holds the per-category accuracies and evaluation_helper's
// summary columns.
type Summary struct {
	Category map[string]Column
	Columns  []Column
}

// round3 is Python's round(x, 3): the exact binary value rounded to 3
// decimals (ties to even), which strconv's 'f' formatting also does.
func round3(x float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 3, 64), 64)
	return r
}

// Summarize computes the accuracies as eval_main does: single-turn and
// special categories count items (single-turn rounded to 3 places),
// multi-turn categories count dialogues whose every turn is right; a
// category without verdicts is 0 and marked not run.
func Summarize(verdicts []*Verdict) *Summary {
	s := &Summary{Category: map[string]Column{}}
	type tally struct{ correct, total int }
	items := map[string]*tally{}
	dialogues := map[string]map[string]bool{} // category → dialogue → all valid
	var dialogueOrder = map[string][]string{}
	for _, v := range verdicts {
		t := items[v.Category]
		if t == nil {
			t = &tally{}
			items[v.Category] = t
		}
		t.total++
		if v.Valid {
			t.correct++
		}
		if strings.Contains(v.Category, "normal_multi_turn") {
			d := v.ID[:max(strings.LastIndexByte(v.ID, '_'), 0)]
			if dialogues[v.Category] == nil {
				dialogues[v.Category] = map[string]bool{}
			}
			if _, seen := dialogues[v.Category][d]; !seen {
				dialogues[v.Category][d] = true
				dialogueOrder[v.Category] = append(dialogueOrder[v.Category], d)
			}
			dialogues[v.Category][d] = dialogues[v.Category][d] && v.Valid
		}
	}
	for _, c := range Categories {
		t := items[c]
		col := Column{Name: c}
		switch {
		case t == nil:
			col.NotRun = true
		case strings.Contains(c, "normal_multi_turn"):
			good := 0
			for _, d := range dialogueOrder[c] {
				if dialogues[c][d] {
					good++
				}
			}
			col.Accuracy = round3(float64(good) / float64(len(dialogueOrder[c])))
			col.Total = t.total
		case strings.HasPrefix(c, "special"):
			col.Accuracy = float64(t.correct) / float64(t.total)
			col.Total = t.total
		default:
			col.Accuracy = round3(float64(t.correct) / float64(t.total))
			col.Total = t.total
		}
		s.Category[c] = col
	}
	mean := func(name string, cats ...string) Column {
		col := Column{Name: name}
		for _, c := range cats {
			col.Accuracy += s.Category[c].Accuracy
			col.NotRun = col.NotRun || s.Category[c].NotRun
		}
		col.Accuracy = round3(col.Accuracy / float64(len(cats)))
		return col
	}
	cat := func(name, c string) Column { x := s.Category[c]; x.Name = name; return x }
	atom := mean("atom", Normal[6:]...)
	single := mean("single_turn", Normal[0], Normal[1])
	multi := mean("multiple_turn", Normal[3], Normal[2])
	normal := mean("normal_summary", Normal...)
	special := mean("special_summary", Special...)
	overall := Column{Name: "Summary (agent not run, counted 0)", NotRun: true,
		Accuracy: round3(special.Accuracy*0.2676 + normal.Accuracy*0.578 + 0*0.1545)}
	s.Columns = []Column{
		cat("bool", "normal_atom_bool"), cat("enum", "normal_atom_enum"), cat("number", "normal_atom_number"),
		cat("list", "normal_atom_list"), cat("object_short", "normal_atom_object_short"), cat("object_deep", "normal_atom_object_deep"),
		atom,
		cat("single_turn_singal_function", Normal[0]), cat("single_turn_parallel_function", Normal[1]), single,
		cat("multiple_turn_switch", Normal[3]), cat("multiple_turn_adjust", Normal[2]), multi,
		cat("similar_api", "normal_similar_api"), cat("profile", "normal_preference"),
		normal,
		cat("incomplete", "special_incomplete"), cat("error", "special_error_param"), cat("irrelevant", "special_irrelevant"),
		special, overall,
	}
	return s
}

func (c Column) display() string {
	if c.NotRun && c.Total == 0 && !strings.Contains(c.Name, "summary") && !strings.Contains(c.Name, "Summary") {
		return "not run"
	}
	return fmt.Sprintf("%.3f", c.Accuracy)
}

// JSON is summary.json.
func (s *Summary) JSON() *pyjson.Object {
	cats := &pyjson.Object{}
	for _, c := range Categories {
		col := s.Category[c]
		cats.Set(c, pyjson.NewObject("accuracy", col.Accuracy, "total_count", int64(col.Total), "run", !col.NotRun))
	}
	cols := &pyjson.Object{}
	for _, c := range s.Columns {
		cols.Set(c.Name, pyjson.NewObject("accuracy", c.Accuracy, "incomplete", c.NotRun))
	}
	return pyjson.NewObject("benchmark", "ACEBench (en)", "categories", cats, "columns", cols,
		"agent", "not run",
		"note", "normal_summary is the unweighted mean of the 12 normal sub-categories (a category not run counts 0); Summary = 0.2676*special + 0.578*normal + 0.1545*agent with agent not run")
}

// Markdown is summary.md.
func (s *Summary) Markdown() string {
	var b strings.Builder
	b.WriteString("# ACEBench (English)\n\n| column | accuracy |\n|---|---:|\n")
	for _, c := range s.Columns {
		fmt.Fprintf(&b, "| %s | %s |\n", c.Name, c.display())
	}
	b.WriteString("\nAgent categories: not run. Summary weights as evaluation_helper.py: 0.2676·special + 0.578·normal + 0.1545·agent.\n")
	return b.String()
}

// WriteScore writes verdicts.jsonl, summary.json and summary.md to dir.
func WriteScore(dir string, verdicts []*Verdict) (*Summary, error) {
	s := Summarize(verdicts)
	return s, eval.WriteScore(dir, verdicts, func(v *Verdict) any { return v.Object() }, s.JSON(), s.Markdown())
}

// ScoreFiles is `star eval acebench score`.
func ScoreFiles(dataDir string, categories []string, responses, outDir string) (*Summary, error) {
	present := Present(dataDir, categories)
	if len(present) == 0 {
		return nil, fmt.Errorf("%s: no data_<category>.json file for the selected categories", dataDir)
	}
	ds, err := Load(dataDir, present, true)
	if err != nil {
		return nil, err
	}
	rows, err := eval.ReadResponses(responses, func(id string) bool { return ds.Entries[id] != nil })
	if err != nil {
		return nil, err
	}
	return WriteScore(outDir, ScoreResponses(ds, rows))
}
