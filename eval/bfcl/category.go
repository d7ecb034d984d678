// Package bfcl is the Berkeley Function Calling Leaderboard v3, single-turn
// part, as gorilla's bfcl_eval (commit cd9429cc) runs it for a Qwen FC model:
// the prompt its QwenFCHandler sends, its decode_ast, its ast_checker with the
// Java/JavaScript type converters, the relevance rules of eval_runner and the
// score columns of eval_runner_helper. docs/eval.md lists where we differ.
package bfcl

import (
	"fmt"
	"slices"
	"strings"
)

// Categories are the single-turn categories, in gorilla's file order.
var Categories = []string{
	"simple", "irrelevance", "parallel", "multiple", "parallel_multiple", "java", "javascript",
	"live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance", "live_relevance",
}

// Groups are the collection names --categories accepts (TEST_COLLECTION_MAPPING,
// single-turn part).
var Groups = map[string][]string{
	"all":           Categories,
	"single_turn":   Categories,
	"ast":           Categories,
	"non_live":      Categories[:7],
	"live":          Categories[7:],
	"hallucination": {"irrelevance", "live_irrelevance", "live_relevance"},
	"python":        {"simple", "irrelevance", "parallel", "multiple", "parallel_multiple", "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance", "live_relevance"},
	"non_python":    {"java", "javascript"},
}

var multiTurn = []string{"multi_turn", "multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context"}

// ParseCategories turns a comma-separated list of names and groups into
// categories in canonical order. Empty means all.
func ParseCategories(spec string) ([]string, error) {
	if strings.TrimSpace(spec) == "" {
		return slices.Clone(Categories), nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		switch {
		case Groups[name] != nil:
			for _, c := range Groups[name] {
				want[c] = true
			}
		case slices.Contains(Categories, name):
			want[name] = true
		case slices.Contains(multiTurn, name):
			return nil, fmt.Errorf("category %q: multi-turn needs BFCL's Python execution backends and is not supported", name)
		default:
			return nil, fmt.Errorf("unknown category %q (categories: %s; groups: all, non_live, live, hallucination, python, non_python)",
				name, strings.Join(Categories, ", "))
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

// CategoryOf is gorilla's extract_test_category_from_id: the id up to its last "_".
func CategoryOf(id string) string {
	if i := strings.LastIndexByte(id, '_'); i >= 0 {
		return id[:i]
	}
	return id
}

// language is the checker language of a category (evaluate_task).
func language(category string) string {
	switch {
	case strings.Contains(category, "javascript"):
		return "JavaScript"
	case strings.Contains(category, "java"):
		return "Java"
	}
	return "Python"
}

// isRelevance reports whether a category is scored by relevance_file_runner.
func isRelevance(category string) bool { return strings.Contains(category, "relevance") }
