package bfcl

import (
	"fmt"
	"path/filepath"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/eval"
	"github.com/star-go/star/internal/pyjson"
)

// Entry is one question: BFCL_v3_<category>.json line {id, question, function}.
type Entry struct {
	ID       string
	Category string
	Question []any // turns, each a list of {role, content} messages
	Function []any // function docs, as in the file
	Answer   []any // ground_truth from possible_answer/, nil for (ir)relevance
}

// Dataset is the entries of some categories, by id.
type Dataset struct {
	Dir        string
	Categories []string
	Entries    map[string]*Entry
	Order      []string       // ids in file order, category by category
	Count      map[string]int // entries per category
}

// FileName is the data file of a category.
func FileName(category string) string { return "BFCL_v3_" + category + ".json" }

// Load reads the categories' files from dir; with answers it also reads
// possible_answer/ for every category that has ground truth.
func Load(dir string, categories []string, answers bool) (*Dataset, error) {
	ds := &Dataset{Dir: dir, Categories: categories, Entries: map[string]*Entry{}, Count: map[string]int{}}
	for _, cat := range categories {
		path := filepath.Join(dir, FileName(cat))
		err := eval.EachObject(path, func(r *jsonl.Reader, o *pyjson.Object) error {
			id, err := stringField(r, o, "id")
			if err != nil {
				return err
			}
			q, _ := o.Get("question")
			turns, ok := q.([]any)
			if !ok || len(turns) == 0 {
				return r.Errorf("question", "want a non-empty list of turns")
			}
			if _, ok := turns[0].([]any); !ok {
				return r.Errorf("question[0]", "want a list of messages")
			}
			f, _ := o.Get("function")
			fns, ok := f.([]any)
			if !ok {
				return r.Errorf("function", "want a list of function docs")
			}
			if _, dup := ds.Entries[id]; dup {
				return r.Errorf("id", "duplicate id %q", id)
			}
			ds.Entries[id] = &Entry{ID: id, Category: cat, Question: turns, Function: fns}
			ds.Order = append(ds.Order, id)
			ds.Count[cat]++
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !answers || isRelevance(cat) {
			continue
		}
		apath := filepath.Join(dir, "possible_answer", FileName(cat))
		err = eval.EachObject(apath, func(r *jsonl.Reader, o *pyjson.Object) error {
			id, err := stringField(r, o, "id")
			if err != nil {
				return err
			}
			e := ds.Entries[id]
			if e == nil {
				return r.Errorf("id", "%q is not in %s", id, FileName(cat))
			}
			gt, _ := o.Get("ground_truth")
			list, ok := gt.([]any)
			if !ok {
				return r.Errorf("ground_truth", "want a list of calls")
			}
			e.Answer = list
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, id := range ds.Order {
			if e := ds.Entries[id]; e.Category == cat && e.Answer == nil {
				return nil, fmt.Errorf("%s: no possible answer for %q", apath, id)
			}
		}
	}
	return ds, nil
}

// Present returns the categories whose data file exists in dir.
func Present(dir string, categories []string) []string {
	return eval.Present(dir, categories, FileName)
}

func stringField(r *jsonl.Reader, o *pyjson.Object, key string) (string, error) {
	v, _ := o.Get(key)
	s, ok := v.(string)
	if !ok {
		return "", r.Errorf(key, "want a string, got %s", jsonl.TypeName(v))
	}
	return s, nil
}
