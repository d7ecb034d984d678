package eval

import (
	"context"
	"fmt"
	"time"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/model"
	"github.com/star-go/star/tokenizer"
)

// Endpoint answers jobs through an OpenAI-compatible server, greedily:
// /v1/completions for a prompt, /v1/chat/completions for messages.
type Endpoint struct {
	Client      *endpoint.Client
	Concurrency int
}

func (e *Endpoint) Workers() int { return max(e.Concurrency, 1) }
func (e *Endpoint) Batch() int   { return 1 }

func (e *Endpoint) Generate(ctx context.Context, jobs []Job) []Output {
	out := make([]Output, len(jobs))
	for i, j := range jobs {
		out[i] = e.one(ctx, j)
	}
	return out
}

func (e *Endpoint) one(ctx context.Context, j Job) Output {
	start := time.Now()
	var maxTokens *int
	if j.MaxTokens > 0 {
		maxTokens = endpoint.Ptr(j.MaxTokens)
	}
	var text string
	var usage *endpoint.Usage
	if j.Messages == nil {
		resp, err := e.Client.Completions(ctx, &endpoint.CompletionRequest{
			Prompt: j.Prompt, Temperature: endpoint.Ptr(0.0), MaxTokens: maxTokens,
		})
		if err != nil {
			return Output{Err: err}
		}
		if len(resp.Choices) == 0 {
			return Output{Err: fmt.Errorf("completions: no choices")}
		}
		text, usage = resp.Choices[0].Text, resp.Usage
	} else {
		msgs := make([]endpoint.ChatMessage, len(j.Messages))
		for i, m := range j.Messages {
			o, _ := m.(*pyjson.Object)
			role, _ := o.Get("role")
			content, _ := o.Get("content")
			msgs[i] = endpoint.ChatMessage{Role: pyjson.Str(role), Content: endpoint.Ptr(pyjson.Str(content))}
		}
		resp, err := e.Client.ChatCompletions(ctx, &endpoint.ChatRequest{
			Messages: msgs, Temperature: endpoint.Ptr(0.0), MaxTokens: maxTokens,
		})
		if err != nil {
			return Output{Err: err}
		}
		if len(resp.Choices) == 0 {
			return Output{Err: fmt.Errorf("chat completions: no choices")}
		}
		if c := resp.Choices[0].Message.Content; c != nil {
			text = *c
		}
		usage = resp.Usage
	}
	var extra []pyjson.Member
	if usage != nil {
		extra = append(extra, pyjson.Member{Key: "input_token_count", Value: int64(usage.PromptTokens)},
			pyjson.Member{Key: "output_token_count", Value: int64(usage.CompletionTokens)})
	}
	extra = append(extra, pyjson.Member{Key: "latency", Value: time.Since(start).Seconds()})
	return Output{Text: text, Extra: extra}
}

// Local answers jobs with an in-process model, greedy, in batches. Prompts
// are tokenized with the model's tokenizer (messages through its chat
// template first); the text is decoded without special tokens, as vLLM
// returns it.
type Local struct {
	Model     *model.Model
	Tokenizer *tokenizer.Tokenizer
	Template  *chat.Template // for message jobs
	BatchSize int
}

func (l *Local) Workers() int { return 1 }
func (l *Local) Batch() int   { return max(l.BatchSize, 1) }

// PromptIDs tokenizes a job's prompt.
func (l *Local) PromptIDs(j Job) ([]int, error) {
	text := j.Prompt
	if j.Messages != nil {
		if l.Template == nil {
			return nil, fmt.Errorf("no chat template for message prompts")
		}
		var err error
		text, err = l.Template.Render(j.Messages, nil, chat.Options{AddGenerationPrompt: true})
		if err != nil {
			return nil, err
		}
	}
	return l.Tokenizer.Encode(text), nil
}

func (l *Local) Generate(ctx context.Context, jobs []Job) []Output {
	out := make([]Output, len(jobs))
	prompts := make([][]int, len(jobs))
	maxNew := 1
	for i, j := range jobs {
		ids, err := l.PromptIDs(j)
		if err != nil {
			for k := range out {
				out[k].Err = err
			}
			return out
		}
		prompts[i] = ids
		maxNew = max(maxNew, j.MaxTokens)
	}
	start := time.Now()
	gens, err := l.Model.Generate(ctx, prompts, model.GenerateOptions{MaxNewTokens: maxNew})
	if err != nil {
		for k := range out {
			out[k].Err = err
		}
		return out
	}
	eos := map[int]bool{}
	for _, id := range l.Model.EOSIDs() {
		eos[id] = true
	}
	if l.Model.Gen != nil {
		for _, id := range l.Model.Gen.EOSTokenIDs {
			eos[id] = true
		}
	}
	latency := time.Since(start).Seconds() / float64(len(jobs))
	for i, g := range gens {
		// Greedy rows are independent, so cutting a row at its own budget
		// gives what decoding it alone would.
		toks := g.Tokens
		if n := jobs[i].MaxTokens; n > 0 && len(toks) > n {
			toks = toks[:n]
		}
		for len(toks) > 0 && eos[toks[len(toks)-1]] {
			toks = toks[:len(toks)-1]
		}
		out[i] = Output{Text: l.Tokenizer.DecodeSkipSpecial(toks), Extra: []pyjson.Member{
			{Key: "input_token_count", Value: int64(len(prompts[i]))},
			{Key: "output_token_count", Value: int64(len(toks))},
			{Key: "latency", Value: latency},
		}}
	}
	return out
}
