package serve

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/star-go/star/model"
)

type completionResponse struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   *usage             `json:"usage,omitempty"`
}

type completionChoice struct {
	Index        int                 `json:"index"`
	Text         string              `json:"text"`
	Logprobs     *completionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
	// vLLM: per prompt token, null for the first, then token id → entry.
	PromptLogprobs []map[string]promptEntry `json:"prompt_logprobs,omitempty"`
}

// completionLogprobs is the legacy completions format.
type completionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []*float32           `json:"token_logprobs"`
	TopLogprobs   []map[string]float32 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

type promptEntry struct {
	Logprob      float32 `json:"logprob"`
	Rank         int     `json:"rank"`
	DecodedToken string  `json:"decoded_token"`
}

// completionJob is one prompt of a request with its sequences.
type completionJob struct {
	text   string // the prompt's text (echo)
	ids    []int
	seqs   []*model.Sequence
	scored []model.PromptLogprob // prompt scores when asked for
}

// completions serves POST /v1/completions.
func (s *Server) completions(ctx context.Context, w http.ResponseWriter, body []byte) error {
	req, err := parseCompletion(body, s.limits())
	if err != nil {
		return err
	}
	if err := s.checkModel(req.Model); err != nil {
		return err
	}
	var jobs []*completionJob
	for _, t := range req.Texts {
		ids := s.tok.Encode(t)
		if len(ids) == 0 {
			return badRequest("prompt", "invalid_value", "the prompt is empty")
		}
		jobs = append(jobs, &completionJob{text: t, ids: ids})
	}
	for _, ids := range req.IDs {
		jobs = append(jobs, &completionJob{text: s.tok.Decode(ids), ids: ids})
	}
	// Cancelled on the way out: sequences of a request that fails part way
	// (a full queue at its third prompt) leave the batch at once.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	top := max(req.Logprobs, 0)
	for _, j := range jobs {
		if j.seqs, err = s.generate(ctx, j.ids, req.sampling, top); err != nil {
			if ae, ok := err.(*apiError); ok && ae.Param == "messages" {
				ae.Param = "prompt"
			}
			return err
		}
	}
	// Prompt scores (prompt_logprobs, or echo with logprobs) run between
	// decode steps, while the sequences generate.
	k := -1
	if req.PromptLogprobs >= 0 || (req.Echo && req.Logprobs >= 0) {
		k = max(req.PromptLogprobs, req.Logprobs, 0)
	}
	if k >= 0 {
		for _, j := range jobs {
			err := s.b.Do(ctx, func(m *model.Model) error {
				var err error
				j.scored, err = m.PromptLogprobs(j.ids, k)
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	start := time.Now()
	id := newID("cmpl-")
	if req.Stream {
		s.streamCompletions(ctx, w, id, req, jobs, start)
		return nil
	}
	resp := completionResponse{ID: id, Object: "text_completion", Created: time.Now().Unix(), Model: s.cfg.Name}
	var all []model.Generation
	promptTokens := 0
	for pi, j := range jobs {
		gens, err := waitAll(ctx, j.seqs)
		if err != nil {
			return err
		}
		promptTokens += len(j.ids)
		all = append(all, gens...)
		for ci, g := range gens {
			resp.Choices = append(resp.Choices, s.completionChoice(pi*req.N+ci, req, j, g))
		}
	}
	s.metrics.firstToken(time.Since(start))
	resp.Usage = newUsage(promptTokens, all)
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) completionChoice(index int, req *completionRequest, j *completionJob, g model.Generation) completionChoice {
	text, _ := cutStop(s.tok.DecodeSkipSpecial(g.Tokens), req.Stop)
	reason := finishReason(g.FinishReason, false)
	c := completionChoice{Index: index, Text: validUTF8(text), FinishReason: &reason}
	if req.Echo {
		c.Text = validUTF8(j.text) + c.Text
	}
	if req.Logprobs >= 0 {
		c.Logprobs = &completionLogprobs{}
		offset := 0
		if req.Echo {
			s.addPromptLogprobs(c.Logprobs, j, req.Logprobs, req.TokenIDs, &offset)
		}
		s.addLogprobs(c.Logprobs, g, 0, req.Logprobs, req.TokenIDs, &offset)
	}
	if req.PromptLogprobs >= 0 {
		c.PromptLogprobs = s.promptLogprobs(j, req.PromptLogprobs, req.TokenIDs)
	}
	return c
}

// addPromptLogprobs appends the prompt's tokens (echo): the first has no log-prob.
func (s *Server) addPromptLogprobs(lp *completionLogprobs, j *completionJob, k int, asID bool, offset *int) {
	for t, id := range j.ids {
		tok := s.tokenText(id, asID)
		lp.Tokens = append(lp.Tokens, validUTF8(tok))
		lp.TextOffset = append(lp.TextOffset, *offset)
		*offset += len(s.tok.Decode([]int{id}))
		if t == 0 || t-1 >= len(j.scored) {
			lp.TokenLogprobs = append(lp.TokenLogprobs, nil)
			lp.TopLogprobs = append(lp.TopLogprobs, nil)
			continue
		}
		sc := j.scored[t-1]
		v := finiteLogprob(sc.Logprob)
		lp.TokenLogprobs = append(lp.TokenLogprobs, &v)
		top := map[string]float32{}
		for _, c := range sc.Top[:min(k, len(sc.Top))] {
			top[validUTF8(s.tokenText(c.ID, asID))] = finiteLogprob(c.Logprob)
		}
		top[validUTF8(tok)] = v
		lp.TopLogprobs = append(lp.TopLogprobs, top)
	}
}

// addLogprobs appends generated tokens from..end of g.
func (s *Server) addLogprobs(lp *completionLogprobs, g model.Generation, from, k int, asID bool, offset *int) {
	for t := from; t < len(g.Tokens); t++ {
		id := g.Tokens[t]
		tok := validUTF8(s.tokenText(id, asID))
		v := finiteLogprob(g.Logprobs[t])
		lp.Tokens = append(lp.Tokens, tok)
		lp.TokenLogprobs = append(lp.TokenLogprobs, &v)
		lp.TextOffset = append(lp.TextOffset, *offset)
		*offset += len(s.tok.DecodeSkipSpecial([]int{id}))
		top := map[string]float32{}
		if t < len(g.Top) {
			for _, c := range g.Top[t][:min(k, len(g.Top[t]))] {
				top[validUTF8(s.tokenText(c.ID, asID))] = finiteLogprob(c.Logprob)
			}
		}
		top[tok] = v // the sampled token is always listed, as vLLM does
		lp.TopLogprobs = append(lp.TopLogprobs, top)
	}
}

// promptLogprobs is vLLM's prompt_logprobs list: null for the first
// token, then per token a map from token id to {logprob, rank,
// decoded_token} holding the prompt's token and the k most likely.
func (s *Server) promptLogprobs(j *completionJob, k int, asID bool) []map[string]promptEntry {
	out := []map[string]promptEntry{nil}
	for t, sc := range j.scored {
		m := map[string]promptEntry{}
		for r, c := range sc.Top[:min(k, len(sc.Top))] {
			m[strconv.Itoa(c.ID)] = promptEntry{Logprob: finiteLogprob(c.Logprob), Rank: r + 1, DecodedToken: validUTF8(s.tokenText(c.ID, asID))}
		}
		id := j.ids[t+1]
		m[strconv.Itoa(id)] = promptEntry{Logprob: finiteLogprob(sc.Logprob), Rank: sc.Rank, DecodedToken: validUTF8(s.tokenText(id, asID))}
		out = append(out, m)
	}
	return out
}

// streamCompletions sends text deltas per choice as server-sent events.
func (s *Server) streamCompletions(ctx context.Context, w http.ResponseWriter, id string, req *completionRequest, jobs []*completionJob, start time.Time) {
	sse := newEvents(w)
	created := time.Now().Unix()
	send := func(choices []completionChoice, u *usage) bool {
		return sse.send(completionResponse{ID: id, Object: "text_completion", Created: created, Model: s.cfg.Name, Choices: choices, Usage: u})
	}
	type state struct {
		job    *completionJob
		seq    *model.Sequence
		gen    model.Generation
		text   differ
		sentLP int
		offset int
		done   bool
	}
	var st []*state
	var seqs []*model.Sequence
	for _, j := range jobs {
		for _, sq := range j.seqs {
			st = append(st, &state{job: j, seq: sq})
			seqs = append(seqs, sq)
		}
	}
	if req.Echo {
		for i, c := range st {
			ch := completionChoice{Index: i, Text: validUTF8(c.job.text)}
			if req.Logprobs >= 0 {
				ch.Logprobs = &completionLogprobs{}
				s.addPromptLogprobs(ch.Logprobs, c.job, req.Logprobs, req.TokenIDs, &c.offset)
			}
			if !send([]completionChoice{ch}, nil) {
				return
			}
		}
	}
	notify := watch(ctx, seqs)
	first := true
	for {
		left := 0
		for i, c := range st {
			if c.done {
				continue
			}
			g, err := c.seq.Read(len(c.gen.Tokens))
			if err != nil {
				sse.fail(s.asAPIError(ctx, err))
				return
			}
			if len(g.Tokens) > 0 && first {
				s.metrics.firstToken(time.Since(start))
				first = false
			}
			c.gen.Tokens = append(c.gen.Tokens, g.Tokens...)
			c.gen.Logprobs = append(c.gen.Logprobs, g.Logprobs...)
			c.gen.Top = append(c.gen.Top, g.Top...)
			final := g.FinishReason != ""
			d := c.text.next(streamText(s.tok.DecodeSkipSpecial(c.gen.Tokens), req.Stop, final))
			ch := completionChoice{Index: i, Text: validUTF8(d)}
			if req.Logprobs >= 0 && len(c.gen.Tokens) > c.sentLP && (d != "" || final) {
				ch.Logprobs = &completionLogprobs{}
				s.addLogprobs(ch.Logprobs, c.gen, c.sentLP, req.Logprobs, req.TokenIDs, &c.offset)
				c.sentLP = len(c.gen.Tokens)
			}
			if final {
				reason := finishReason(g.FinishReason, false)
				ch.FinishReason = &reason
				c.done = true
			} else {
				left++
			}
			if d != "" || final || ch.Logprobs != nil {
				if !send([]completionChoice{ch}, nil) {
					return
				}
			}
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
		var gens []model.Generation
		prompt := 0
		for _, j := range jobs {
			prompt += len(j.ids)
		}
		for _, c := range st {
			gens = append(gens, c.gen)
		}
		send([]completionChoice{}, newUsage(prompt, gens))
	}
	sse.done()
}
