package model

import "fmt"

// PromptLogprob scores one token of a given sequence: its log-prob given
// the tokens before it, its rank among all tokens (1 = most likely), and
// the k most likely tokens there (vLLM's prompt_logprobs entry).
type PromptLogprob struct {
	Logprob float32
	Rank    int
	Top     []TokenLogprob
}

// PromptLogprobs scores tokens 1..n-1 of seq (len(seq)-1 entries) with the
// top k alternatives at each position.
func (m *Model) PromptLogprobs(seq []int, k int) ([]PromptLogprob, error) {
	if len(seq) < 2 {
		return nil, nil
	}
	logits, err := m.Logits([][]int{seq})
	if err != nil {
		return nil, fmt.Errorf("prompt logprobs: %w", err)
	}
	rows := logits[0]
	out := make([]PromptLogprob, len(seq)-1)
	for t := 1; t < len(seq); t++ {
		lp := logSoftmax(rows[t-1])
		tok := seq[t]
		rank := 1
		for i, v := range lp {
			// Ties rank by index, as topIndices orders them.
			if v > lp[tok] || (v == lp[tok] && i < tok) {
				rank++
			}
		}
		p := PromptLogprob{Logprob: float32(lp[tok]), Rank: rank}
		if k > 0 {
			for _, i := range topIndices(lp, k) {
				p.Top = append(p.Top, TokenLogprob{ID: i, Logprob: float32(lp[i])})
			}
		}
		out[t-1] = p
	}
	return out, nil
}
