// Package acebench is ACEBench's English "normal" and "special" categories as
// chenchen0103/ACEBench runs them for an open-source local model in prompt
// mode: the chat messages of model_inference/common_inference.py, the
// [func(param=value), ...] decoder of model_inference/utils.py, the checker
// of model_eval/checker.py and the summary formulas of eval_main.py /
// evaluation_helper.py. docs/eval.md lists where we differ.
package acebench

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/eval"
	"github.com/star-go/star/internal/pyjson"
)

// Normal are the 12 normal sub-categories (ACE_DATA_CATEGORY["normal"]).
var Normal = []string{
	"normal_single_turn_single_function", "normal_single_turn_parallel_function",
	"normal_multi_turn_user_adjust", "normal_multi_turn_user_switch",
	"normal_similar_api", "normal_preference",
	"normal_atom_bool", "normal_atom_enum", "normal_atom_number", "normal_atom_list",
	"normal_atom_object_deep", "normal_atom_object_short",
}

// Special are the special sub-categories.
var Special = []string{"special_incomplete", "special_error_param", "special_irrelevant"}

// Categories is every supported category (agent ones need ACEBench's
// simulated environments and are not supported).
var Categories = append(slices.Clone(Normal), Special...)

var groups = map[string][]string{
	"normal": Normal, "special": Special, "all": Categories,
	"atom":       Normal[6:],
	"multi_turn": {"normal_multi_turn_user_adjust", "normal_multi_turn_user_switch"},
}

// ParseCategories turns a comma-separated list of names and groups into
// categories in canonical order; empty means the 12 normal ones.
func ParseCategories(spec string) ([]string, error) {
	if strings.TrimSpace(spec) == "" {
		return slices.Clone(Normal), nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		switch {
		case groups[name] != nil:
			for _, c := range groups[name] {
				want[c] = true
			}
		case slices.Contains(Categories, name):
			want[name] = true
		case strings.HasPrefix(name, "agent"):
			return nil, fmt.Errorf("category %q: agent categories need ACEBench's simulated environments and are not supported", name)
		default:
			return nil, fmt.Errorf("unknown category %q (categories: %s; groups: normal, special, atom, multi_turn, all)", name, strings.Join(Categories, ", "))
		}
	}
	var out []string
	for _, c := range Categories {
		if want[c] {
			out = append(out, c)
		}
	}
	return out, nil
}

// Entry is one test case: data_<category>.json {id, question, function,
// time | profile}, with its ground truth from possible_answer/.
type Entry struct {
	ID       string
	Category string
	Question any
	Function any // usually a list of docs
	Time     any
	Profile  any
	Answer   any // a dict {func: params}, a list of such alternatives, or (special) what to look for
}

// Dataset is the entries of some categories, by id.
type Dataset struct {
	Entries map[string]*Entry
	Order   []string
	Count   map[string]int
}

// FileName is the data file of a category.
func FileName(category string) string { return "data_" + category + ".json" }

// Load reads the categories' data files from dir, and with answers their
// possible_answer files.
func Load(dir string, categories []string, answers bool) (*Dataset, error) {
	ds := &Dataset{Entries: map[string]*Entry{}, Count: map[string]int{}}
	for _, cat := range categories {
		err := eval.EachObject(filepath.Join(dir, FileName(cat)), func(r *jsonl.Reader, o *pyjson.Object) error {
			id, ok := fieldString(o, "id")
			if !ok {
				return r.Errorf("id", "want a string")
			}
			if _, dup := ds.Entries[id]; dup {
				return r.Errorf("id", "duplicate id %q", id)
			}
			e := &Entry{ID: id, Category: cat}
			e.Question, _ = o.Get("question")
			e.Function, _ = o.Get("function")
			e.Time, _ = o.Get("time")
			e.Profile, _ = o.Get("profile")
			ds.Entries[id] = e
			ds.Order = append(ds.Order, id)
			ds.Count[cat]++
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !answers {
			continue
		}
		apath := filepath.Join(dir, "possible_answer", FileName(cat))
		err = eval.EachObject(apath, func(r *jsonl.Reader, o *pyjson.Object) error {
			id, ok := fieldString(o, "id")
			if !ok {
				return r.Errorf("id", "want a string")
			}
			e := ds.Entries[id]
			if e == nil || e.Category != cat {
				return r.Errorf("id", "%q is not in %s", id, FileName(cat))
			}
			gt, ok := o.Get("ground_truth")
			if !ok {
				return r.Errorf("ground_truth", "missing")
			}
			e.Answer = gt
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, id := range ds.Order {
			if e := ds.Entries[id]; e.Category == cat && e.Answer == nil {
				return nil, fmt.Errorf("%s: no ground truth for %q", apath, id)
			}
		}
	}
	return ds, nil
}

// Present returns the categories whose data file exists in dir.
func Present(dir string, categories []string) []string {
	return eval.Present(dir, categories, FileName)
}

func fieldString(o *pyjson.Object, key string) (string, bool) {
	v, _ := o.Get(key)
	s, ok := v.(string)
	return s, ok
}
