package acebench

import "github.com/star-go/star/eval"

// MaxTokens is the generation budget of ACEBench's local-model inference
// (vLLM SamplingParams max_tokens).
const MaxTokens = 1024

// Jobs are the chat messages of the dataset's entries in order (the first
// limit when limit > 0).
func Jobs(ds *Dataset, limit int) []eval.Job {
	var jobs []eval.Job
	for _, id := range ds.Order {
		if limit > 0 && len(jobs) == limit {
			break
		}
		jobs = append(jobs, eval.Job{ID: id, Messages: Messages(ds.Entries[id]), MaxTokens: MaxTokens})
	}
	return jobs
}
