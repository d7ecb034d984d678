package bfcl

import (
	"strings"

	"github.com/star-go/star/eval"
	"github.com/star-go/star/internal/pyjson"
)

// MaxTokens is the OSS handler's budget for a prompt of n tokens: 4096, or
// what the context leaves after the prompt and two tokens, or 1000 when the
// prompt already does not fit (the server will reject it anyway).
func MaxTokens(n, maxContext int) int {
	if maxContext < n+2 {
		return 1000
	}
	return min(4096, maxContext-n-2)
}

// Jobs are the prompts of the dataset's entries in order (the first limit
// when limit > 0). count, when not nil, gives a prompt's length in tokens
// for the budget rule; without it the budget is 4096, which is what the
// rule gives whenever the prompt is shorter than maxContext-4098 tokens.
func Jobs(ds *Dataset, limit int, count func(string) int, maxContext int) ([]eval.Job, error) {
	var jobs []eval.Job
	for _, id := range ds.Order {
		if limit > 0 && len(jobs) == limit {
			break
		}
		p, err := Prompt(ds.Entries[id])
		if err != nil {
			return nil, err
		}
		j := eval.Job{ID: id, Prompt: p, MaxTokens: 4096}
		if count != nil {
			j.Tokens = count(p)
			j.MaxTokens = MaxTokens(j.Tokens, maxContext)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// Row is the result row gorilla's QwenFCHandler writes: the text after any
// </think> as result, the reasoning beside it when there is some.
func Row(j eval.Job, o eval.Output) *pyjson.Object {
	if o.Err != nil {
		return eval.Row(j, o)
	}
	text, reasoning := o.Text, ""
	if strings.Contains(text, "</think>") {
		parts := strings.Split(text, "</think>")
		before := strings.TrimRight(parts[0], "\n")
		if i := strings.LastIndex(before, "<think>"); i >= 0 {
			before = before[i+len("<think>"):]
		}
		reasoning = strings.TrimLeft(before, "\n")
		text = strings.TrimLeft(parts[len(parts)-1], "\n")
	}
	o.Text = text
	row := eval.Row(j, o)
	if reasoning != "" {
		row.Set("reasoning_content", reasoning)
	}
	return row
}
