package rollout

import (
	"fmt"
	"strings"

	"github.com/star-go/star/data/message"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/toolcall"
)

// Completion is one sampled continuation of a rendered prompt.
type Completion struct {
	Text string
	// FinishReason is "stop" (EOS or a stop string) or "length" (max tokens).
	FinishReason string
}

// Tools maps each tool name of a record to its parameter names, the set a
// call's argument names must belong to: parameters.properties when
// parameters has an object "properties" and a non-null "type" (JSON
// Schema), else the keys of parameters itself (the flat XLAM layout), as
// the Sim-RL reward reads them (STAR-SPEC §6.1 step 2).
type Tools map[string]map[string]bool

// ToolsOf builds the parameter sets of a record's tools.
func ToolsOf(tools []*pyjson.Object) Tools {
	out := make(Tools, len(tools))
	for _, t := range tools {
		nv, _ := t.Get("name")
		name, _ := nv.(string)
		params := map[string]bool{}
		if pv, ok := t.Get("parameters"); ok {
			if p, ok := pv.(*pyjson.Object); ok {
				set := p
				props, hasProps := p.Get("properties")
				typ, hasType := p.Get("type")
				if po, ok := props.(*pyjson.Object); ok && hasProps && hasType && typ != nil {
					set = po
				}
				for _, m := range set.Members {
					params[m.Key] = true
				}
			}
		}
		out[name] = params // a repeated name takes the later tool, as a dict does
	}
	return out
}

// Check parses a completion and says why it cannot be kept ("" when it can):
// exactly one <think>…</think> block (a missing opening tag counts as
// present), every <tool_call> a JSON object with "name" and "arguments",
// each name one of tools and each argument name in its parameters; and, on
// top of §5, not cut off at the token limit and not empty.
func Check(c Completion, tools Tools) (toolcall.Message, string) {
	m := toolcall.Parse(trimEnd(c.Text))
	switch {
	case c.FinishReason == "length":
		return m, "truncated at max tokens"
	case m.ThinkBlocks != 1:
		return m, fmt.Sprintf("%d <think></think> blocks, want 1", m.ThinkBlocks)
	case m.Err != nil:
		return m, m.Err.Error()
	}
	for i, call := range m.Calls {
		params, ok := tools[call.Name]
		if !ok {
			return m, fmt.Sprintf("tool call %d: unknown tool %q", i+1, call.Name)
		}
		args, ok := call.Arguments.(*pyjson.Object)
		if !ok {
			return m, fmt.Sprintf("tool call %d: arguments of %q are not an object", i+1, call.Name)
		}
		for _, a := range args.Members {
			if !params[a.Key] {
				return m, fmt.Sprintf("tool call %d: %q has no parameter %q", i+1, call.Name, a.Key)
			}
		}
	}
	if len(m.Calls) == 0 && m.Content == "" {
		return m, "empty answer"
	}
	return m, ""
}

// trimEnd drops an end-of-turn token a server left in the text (vLLM skips
// special tokens by default; other servers may not).
func trimEnd(s string) string {
	for _, t := range []string{"<|im_end|>", "<|endoftext|>"} {
		s = strings.TrimSuffix(s, t)
	}
	return s
}

// Message is the assistant turn a kept completion becomes.
func Message(m toolcall.Message) message.Message {
	out := message.Message{Role: message.Assistant, ReasoningContent: message.Str(m.Reasoning)}
	if m.Content != "" || len(m.Calls) == 0 {
		out.Content = message.Str(m.Content)
	}
	if len(m.Calls) > 0 {
		out.ToolCalls = make([]message.ToolCall, len(m.Calls))
		for i, c := range m.Calls {
			out.ToolCalls[i] = message.ToolCall{Name: c.Name, Arguments: c.Arguments}
		}
	}
	return out
}

// dedupKey identifies a completion for deduplication: its content, calls
// and reasoning, as teacher_rollout.py hashes them.
func dedupKey(m toolcall.Message) string {
	var b []byte
	b = append(b, m.Content...)
	b = append(b, 0)
	for _, c := range m.Calls {
		b = pyjson.AppendString(b, c.Name, false)
		b = append(b, ':')
		b = pyjson.Append(b, c.Arguments, nil)
		b = append(b, ';')
	}
	b = append(b, 0)
	b = append(b, m.Reasoning...)
	return string(b)
}
