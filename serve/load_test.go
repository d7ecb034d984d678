package serve

import (
	"context"
	"testing"
)

// TestLoad: the load generator's requests all complete with exactly
// max_tokens tokens (ignore_eos), and the result adds up.
func TestLoad(t *testing.T) {
	ts := startServer(t, Config{MaxBatch: 4})
	r, err := Load(context.Background(), LoadOptions{URL: ts.url, Model: "script", Clients: 4, Requests: 10,
		PromptTokens: 16, MaxTokens: 8, Vocab: 1000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 10 || r.OutputTokens != 80 || r.P50 <= 0 || r.P99 < r.P50 || r.TokensPerSecond() <= 0 {
		t.Errorf("result %+v", r)
	}
	if _, err := Load(context.Background(), LoadOptions{URL: ts.url, Model: "nope", Clients: 1, Requests: 1, PromptTokens: 1, MaxTokens: 1, Vocab: 10}); err == nil {
		t.Errorf("a failing request did not fail the run")
	}
}
