package serve

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/model"
)

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func newUsage(prompt int, gens []model.Generation) *usage {
	u := &usage{PromptTokens: prompt}
	for _, g := range gens {
		u.CompletionTokens += len(g.Tokens)
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

type chatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   *usage       `json:"usage"`
}

type chatChoice struct {
	Index        int           `json:"index"`
	Message      chatMessage   `json:"message"`
	Logprobs     *chatLogprobs `json:"logprobs"`
	FinishReason string        `json:"finish_reason"`
}

type chatMessage struct {
	Role             string     `json:"role"`
	Content          *string    `json:"content"`
	ReasoningContent *string    `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCall `json:"tool_calls,omitempty"`
}

type toolCall struct {
	Index    *int     `json:"index,omitempty"` // stream deltas only
	ID       string   `json:"id,omitempty"`
	Type     string   `json:"type,omitempty"`
	Function function `json:"function"`
}

type function struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type chatLogprobs struct {
	Content []tokenLogprob `json:"content"`
}

type tokenLogprob struct {
	Token       string         `json:"token"`
	Logprob     float32        `json:"logprob"`
	Bytes       []int          `json:"bytes"`
	TopLogprobs []tokenLogprob `json:"top_logprobs"`
}

type chatChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *usage        `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int           `json:"index"`
	Delta        chunkDelta    `json:"delta"`
	Logprobs     *chatLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
}

type chunkDelta struct {
	Role             string     `json:"role,omitempty"`
	Content          *string    `json:"content,omitempty"`
	ReasoningContent *string    `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCall `json:"tool_calls,omitempty"`
}

// chat serves POST /v1/chat/completions.
func (s *Server) chat(ctx context.Context, w http.ResponseWriter, body []byte) error {
	req, err := parseChat(body, s.limits())
	if err != nil {
		return err
	}
	if err := s.checkModel(req.Model); err != nil {
		return err
	}
	text, err := s.tmpl.Render(req.Messages, req.Tools, chat.Options{AddGenerationPrompt: true, EnableThinking: req.Thinking, Extra: req.Template})
	if err != nil {
		return badRequest("messages", "invalid_value", "the chat template rejects these messages: %v", err)
	}
	prompt := s.tok.Encode(text)
	top := 0
	if req.Logprobs {
		top = req.TopLogprobs
	}
	seqs, err := s.generate(ctx, prompt, req.sampling, top)
	if err != nil {
		return err
	}
	start := time.Now()
	id := newID("chatcmpl-")
	if req.Stream {
		s.streamChat(ctx, w, id, req, len(prompt), seqs, start)
		return nil
	}
	gens, err := waitAll(ctx, seqs)
	if err != nil {
		return err
	}
	s.metrics.firstToken(time.Since(start)) // the whole answer is the first thing a non-streaming client sees
	resp := chatResponse{ID: id, Object: "chat.completion", Created: time.Now().Unix(), Model: s.cfg.Name,
		Usage: newUsage(len(prompt), gens)}
	for i, g := range gens {
		resp.Choices = append(resp.Choices, s.chatChoice(i, id, req, g))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// chatChoice builds one finished choice.
func (s *Server) chatChoice(i int, id string, req *chatRequest, g model.Generation) chatChoice {
	text, _ := cutStop(s.tok.DecodeSkipSpecial(g.Tokens), req.Stop)
	p := split(text, req.ParseCalls, true)
	msg := chatMessage{Role: "assistant"}
	if p.Content != "" || len(p.Calls) == 0 {
		c := validUTF8(p.Content)
		msg.Content = &c
	}
	if p.HasReasoning {
		r := validUTF8(p.Reasoning)
		msg.ReasoningContent = &r
	}
	for j, c := range p.Calls {
		msg.ToolCalls = append(msg.ToolCalls, toolCall{ID: callID(id, i, j), Type: "function",
			Function: function{Name: validUTF8(c.Name), Arguments: validUTF8(c.ArgumentsJSON())}})
	}
	ch := chatChoice{Index: i, Message: msg, FinishReason: finishReason(g.FinishReason, len(p.Calls) > 0)}
	if req.Logprobs {
		ch.Logprobs = &chatLogprobs{Content: s.chatLogprobs(g, 0, req.TokenIDs)}
	}
	return ch
}

// callID names a call: unique per response, stable within it (the stream
// and its final state agree).
func callID(id string, choice, call int) string {
	return fmt.Sprintf("call_%s_%d_%d", id[len("chatcmpl-"):], choice, call)
}

// finishReason maps the engine's reason to OpenAI's.
func finishReason(engine string, calls bool) string {
	switch {
	case engine == "length":
		return "length"
	case calls:
		return "tool_calls"
	}
	return "stop"
}

// chatLogprobs lists tokens from..end of g in OpenAI's chat format.
func (s *Server) chatLogprobs(g model.Generation, from int, asID bool) []tokenLogprob {
	out := make([]tokenLogprob, 0, len(g.Tokens)-from)
	for t := from; t < len(g.Tokens); t++ {
		tok := s.tokenText(g.Tokens[t], asID)
		e := tokenLogprob{Token: validUTF8(tok), Logprob: finiteLogprob(g.Logprobs[t]), Bytes: tokenBytes(s.tok.Decode([]int{g.Tokens[t]})),
			TopLogprobs: []tokenLogprob{}}
		if t < len(g.Top) {
			for _, c := range g.Top[t] {
				e.TopLogprobs = append(e.TopLogprobs, tokenLogprob{Token: validUTF8(s.tokenText(c.ID, asID)), Logprob: finiteLogprob(c.Logprob),
					Bytes: tokenBytes(s.tok.Decode([]int{c.ID}))})
			}
		}
		out = append(out, e)
	}
	return out
}

// streamChat sends the choices as server-sent events while they are generated.
func (s *Server) streamChat(ctx context.Context, w http.ResponseWriter, id string, req *chatRequest, promptLen int, seqs []*model.Sequence, start time.Time) {
	sse := newEvents(w)
	created := time.Now().Unix()
	send := func(choices []chunkChoice, u *usage) bool {
		return sse.send(chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: s.cfg.Name, Choices: choices, Usage: u})
	}
	type state struct {
		tokens              []int
		logprobs            []float32
		top                 [][]model.TokenLogprob
		sentLP              int // tokens whose logprobs were sent
		reasoning, content  differ
		calls               int
		done                bool
		engineReason, final string
	}
	st := make([]state, len(seqs))
	empty := ""
	for i := range seqs {
		if !send([]chunkChoice{{Index: i, Delta: chunkDelta{Role: "assistant", Content: &empty}}}, nil) {
			return
		}
	}
	notify := watch(ctx, seqs)
	first := true
	for {
		left := 0
		for i, sq := range seqs {
			c := &st[i]
			if c.done {
				continue
			}
			g, err := sq.Read(len(c.tokens))
			if err != nil {
				sse.fail(s.asAPIError(ctx, err))
				return
			}
			if len(g.Tokens) > 0 && first {
				s.metrics.firstToken(time.Since(start))
				first = false
			}
			c.tokens = append(c.tokens, g.Tokens...)
			c.logprobs = append(c.logprobs, g.Logprobs...)
			c.top = append(c.top, g.Top...)
			final := g.FinishReason != ""
			text := streamText(s.tok.DecodeSkipSpecial(c.tokens), req.Stop, final)
			p := split(text, req.ParseCalls, final)
			var delta chunkDelta
			if d := c.reasoning.next(p.Reasoning); d != "" {
				d = validUTF8(d)
				delta.ReasoningContent = &d
			}
			if d := c.content.next(p.Content); d != "" {
				d = validUTF8(d)
				delta.Content = &d
			}
			for ; c.calls < len(p.Calls); c.calls++ {
				k := c.calls
				call := p.Calls[k]
				// OpenAI's shape: the id, type and name first, then the arguments.
				delta.ToolCalls = append(delta.ToolCalls,
					toolCall{Index: &k, ID: callID(id, i, k), Type: "function", Function: function{Name: validUTF8(call.Name)}},
					toolCall{Index: &k, Function: function{Arguments: validUTF8(call.ArgumentsJSON())}})
			}
			var lp *chatLogprobs
			if req.Logprobs && len(c.tokens) > c.sentLP && (final || delta.Content != nil || delta.ReasoningContent != nil || delta.ToolCalls != nil) {
				lp = &chatLogprobs{Content: s.chatLogprobs(model.Generation{Tokens: c.tokens, Logprobs: c.logprobs, Top: c.top}, c.sentLP, req.TokenIDs)}
				c.sentLP = len(c.tokens)
			}
			if delta.Content != nil || delta.ReasoningContent != nil || lp != nil {
				if !send([]chunkChoice{{Index: i, Delta: chunkDelta{Content: delta.Content, ReasoningContent: delta.ReasoningContent}, Logprobs: lp}}, nil) {
					return
				}
			}
			for j := 0; j < len(delta.ToolCalls); j += 2 {
				// Each call as two chunks, as OpenAI streams them.
				for _, tc := range delta.ToolCalls[j : j+2] {
					if !send([]chunkChoice{{Index: i, Delta: chunkDelta{ToolCalls: []toolCall{tc}}}}, nil) {
						return
					}
				}
			}
			if final {
				c.done = true
				reason := finishReason(g.FinishReason, c.calls > 0)
				if !send([]chunkChoice{{Index: i, Delta: chunkDelta{}, FinishReason: &reason}}, nil) {
					return
				}
				continue
			}
			left++
		}
		if left == 0 {
			break
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return
		}
	}
	if req.IncludeUsage {
		gens := make([]model.Generation, len(st))
		for i := range st {
			gens[i].Tokens = st[i].tokens
		}
		send([]chunkChoice{}, newUsage(promptLen, gens))
	}
	sse.done()
}

// watch returns a channel signalled whenever one of seqs changes.
func watch(ctx context.Context, seqs []*model.Sequence) <-chan struct{} {
	notify := make(chan struct{}, 1)
	for _, sq := range seqs {
		go func() {
			for {
				select {
				case <-sq.Changed():
					select {
					case notify <- struct{}{}:
					default:
					}
				case <-sq.Done():
					select {
					case notify <- struct{}{}:
					default:
					}
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return notify
}
