package rollout

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/model"
	"github.com/star-go/star/tokenizer"
)

// Request asks for N completions of one rendered prompt.
type Request struct {
	Index  int    // the record's position in the input (seeds sampling)
	Prompt string // the chat template's output, ending in the generation prompt
	N      int
}

// Sampling are the decoding settings shared by both generators.
type Sampling struct {
	Temperature float64
	TopP        float64
	TopK        int // -1 or 0: off
	MaxTokens   int
	// Seed, when non-zero, makes sampling reproducible: record i is sampled
	// with seed Seed+i.
	Seed int64
}

// Generator samples completions. The teacher behind an endpoint and the
// in-process engine both implement it, so all validation is shared.
type Generator interface {
	Generate(ctx context.Context, r Request) ([]Completion, error)
}

// Endpoint samples through an OpenAI-compatible /v1/completions endpoint
// with the rendered text as the prompt, so the server applies no template of
// its own (the request vLLM, SGLang and star serve all accept).
type Endpoint struct {
	Client *endpoint.Client
	Sampling
}

// Generate implements Generator.
func (e *Endpoint) Generate(ctx context.Context, r Request) ([]Completion, error) {
	req := &endpoint.CompletionRequest{
		Prompt:      r.Prompt,
		N:           r.N,
		Temperature: endpoint.Ptr(e.Temperature),
		TopP:        endpoint.Ptr(e.TopP),
		MaxTokens:   endpoint.Ptr(e.MaxTokens),
		// Servers stop at the model's EOS; these cover one that does not
		// know Qwen3's end of turn.
		Stop: []string{"<|im_end|>", "<|endoftext|>"},
	}
	if e.TopK > 0 {
		req.TopK = endpoint.Ptr(e.TopK)
	}
	if e.Seed != 0 {
		req.Seed = endpoint.Ptr(e.Seed + int64(r.Index))
	}
	resp, err := e.Client.Completions(ctx, req)
	if err != nil {
		return nil, err
	}
	ch := resp.Choices
	if len(ch) == 0 || len(ch) > r.N {
		return nil, fmt.Errorf("asked for %d completions, the server returned %d", r.N, len(ch))
	}
	sort.SliceStable(ch, func(i, j int) bool { return ch[i].Index < ch[j].Index })
	out := make([]Completion, 0, r.N)
	for i := range ch {
		out = append(out, Completion{Text: ch[i].Text, FinishReason: ch[i].Finish()})
	}
	// A server that ignores n (llama.cpp's) answers with one choice: ask
	// for the others one at a time.
	for k := len(out); k < r.N; k++ {
		one := *req
		one.N = 1
		if one.Seed != nil {
			one.Seed = endpoint.Ptr(*req.Seed + int64(k)*1_000_003)
		}
		resp, err := e.Client.Completions(ctx, &one)
		if err != nil {
			return nil, err
		}
		if len(resp.Choices) != 1 {
			return nil, fmt.Errorf("asked for 1 completion, the server returned %d", len(resp.Choices))
		}
		out = append(out, Completion{Text: resp.Choices[0].Text, FinishReason: resp.Choices[0].Finish()})
	}
	return out, nil
}

// Engine samples with a model loaded in this process (model.Generate): N
// copies of the prompt decode as one batch. Calls are serialised, since the
// engine already uses every core.
type Engine struct {
	Model     *model.Model
	Tokenizer *tokenizer.Tokenizer
	Sampling
	mu sync.Mutex
}

// Generate implements Generator.
func (e *Engine) Generate(ctx context.Context, r Request) ([]Completion, error) {
	ids := e.Tokenizer.Encode(r.Prompt)
	prompts := make([][]int, r.N)
	for i := range prompts {
		prompts[i] = ids
	}
	topK := e.TopK
	if topK < 0 {
		topK = 0
	}
	opt := model.GenerateOptions{
		MaxNewTokens: e.MaxTokens,
		Temperature:  e.Temperature,
		TopP:         e.TopP,
		TopK:         topK,
		Seed:         uint64(e.Seed + int64(r.Index)),
	}
	e.mu.Lock()
	gens, err := e.Model.Generate(ctx, prompts, opt)
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([]Completion, len(gens))
	for i, g := range gens {
		toks := g.Tokens
		finish := "stop"
		switch g.FinishReason {
		case "eos":
			toks = toks[:len(toks)-1] // the end-of-turn token is not text
		case "length":
			finish = "length"
		}
		out[i] = Completion{Text: e.Tokenizer.Decode(toks), FinishReason: finish}
	}
	return out, nil
}
