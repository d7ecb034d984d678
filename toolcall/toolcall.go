// Package toolcall parses and writes what a Qwen3 (Hermes-style) model
// produces: an optional <think>…</think> block, free text, and tool calls as
// <tool_call>{"name": …, "arguments": …}</tool_call> blocks whose bodies are
// JSON read as Python's json.loads reads them (internal/pyjson: key order
// kept, integers exact).
//
// It is the one parser used by the teacher rollout, the server and the
// evaluators. The Sim-RL reward keeps its own copy of the same rules (see
// reward/reward.go): it must match simrl.py to the byte, including its way of
// splitting a generation at the prompt's last assistant marker, and it reads
// call bodies without copying.
package toolcall

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/star-go/star/internal/pyjson"
)

// The tags, as the Qwen3 tokenizer has them (each is one added token).
const (
	ThinkOpen  = "<think>"
	ThinkClose = "</think>"
	CallOpen   = "<tool_call>"
	CallClose  = "</tool_call>"
)

// Call is one parsed <tool_call> block.
type Call struct {
	Name string
	// Arguments is the "arguments" value as decoded by pyjson: usually an
	// *pyjson.Object, but any JSON value the model wrote.
	Arguments any
	// Raw is the block body exactly as written (between the tags).
	Raw string
}

// CallError is a <tool_call> block that is not a call.
type CallError struct {
	Index int // 0-based, among all <tool_call> blocks of the text
	Msg   string
}

func (e *CallError) Error() string { return fmt.Sprintf("tool call %d: %s", e.Index+1, e.Msg) }

// Message is a parsed model output.
type Message struct {
	// Reasoning is the text of the first <think>…</think> block, stripped
	// ("" if none).
	Reasoning string
	// ThinkBlocks counts complete <think>…</think> pairs, the way
	// re.findall("<think>(.*?)</think>", s, re.S) counts them, after adding
	// the opening tag when the text starts inside the block (its first
	// </think> comes before any <think>): a prompt that ends in "<think>"
	// leaves the model to write only the closing tag.
	ThinkBlocks int
	// Content is the text after the last </think> with every complete
	// <tool_call> block removed, stripped as Python's str.strip strips.
	Content string
	// Calls are the well-formed calls, in order.
	Calls []Call
	// Err is the first block that is not a call (a *CallError), or an
	// unterminated <tool_call> at the end (a truncated generation).
	Err error
}

// Parse parses a model's output (the text generated after the prompt).
func Parse(text string) Message {
	var m Message
	text = addOpening(text)
	m.ThinkBlocks = CountPairs(text, ThinkOpen, ThinkClose)
	answer := text
	if i := strings.Index(text, ThinkOpen); i >= 0 {
		if j := strings.Index(text[i+len(ThinkOpen):], ThinkClose); j >= 0 {
			m.Reasoning = Strip(text[i+len(ThinkOpen) : i+len(ThinkOpen)+j])
		}
	}
	if i := strings.LastIndex(text, ThinkClose); i >= 0 {
		answer = text[i+len(ThinkClose):]
	}

	var content strings.Builder
	s := answer
	for idx := 0; ; idx++ {
		i := strings.Index(s, CallOpen)
		if i < 0 {
			content.WriteString(s)
			break
		}
		content.WriteString(s[:i])
		rest := s[i+len(CallOpen):]
		j := strings.Index(rest, CallClose)
		if j < 0 {
			if m.Err == nil {
				m.Err = &CallError{Index: idx, Msg: "no closing </tool_call> (truncated output?)"}
			}
			content.WriteString(s[i:])
			break
		}
		body := rest[:j]
		s = rest[j+len(CallClose):]
		c, err := ParseCall(body)
		if err != nil {
			if m.Err == nil {
				m.Err = &CallError{Index: idx, Msg: err.Error()}
			}
			continue
		}
		m.Calls = append(m.Calls, c)
	}
	m.Content = Strip(content.String())
	return m
}

// addOpening prepends <think> when the first </think> precedes any <think>.
func addOpening(text string) string {
	c := strings.Index(text, ThinkClose)
	if c < 0 {
		return text
	}
	if o := strings.Index(text, ThinkOpen); o < 0 || o > c {
		return ThinkOpen + text
	}
	return text
}

// ParseCall reads one <tool_call> body: a JSON object with "name" (a string)
// and "arguments".
func ParseCall(body string) (Call, error) {
	if !utf8.ValidString(body) {
		return Call{}, fmt.Errorf("not valid UTF-8")
	}
	v, err := pyjson.UnmarshalString(body)
	if err != nil {
		return Call{}, fmt.Errorf("not JSON: %v", err)
	}
	o, ok := v.(*pyjson.Object)
	if !ok {
		return Call{}, fmt.Errorf("not a JSON object")
	}
	nv, ok := o.Get("name")
	if !ok {
		return Call{}, fmt.Errorf(`no "name"`)
	}
	name, ok := nv.(string)
	if !ok {
		return Call{}, fmt.Errorf(`"name" is %s, not a string`, pyjson.Repr(nv))
	}
	args, ok := o.Get("arguments")
	if !ok {
		return Call{}, fmt.Errorf(`no "arguments"`)
	}
	return Call{Name: name, Arguments: args, Raw: body}, nil
}

// Blocks returns the bodies of the complete <tool_call> blocks of text, as
// written.
func Blocks(text string) []string {
	var out []string
	s := text
	for {
		i := strings.Index(s, CallOpen)
		if i < 0 {
			return out
		}
		s = s[i+len(CallOpen):]
		j := strings.Index(s, CallClose)
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j+len(CallClose):]
	}
}

// Render writes calls as the Qwen3 chat template writes an assistant turn's
// tool calls: `<tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call>`
// joined by "\n", the name written verbatim and the arguments as tojson
// (json.dumps, non-ASCII kept), or verbatim when they are a string.
func Render(calls []Call) string {
	var b []byte
	for i, c := range calls {
		if i > 0 {
			b = append(b, '\n')
		}
		b = AppendCall(b, c.Name, c.Arguments)
	}
	return string(b)
}

// AppendCall appends one call rendered as Render renders it.
func AppendCall(dst []byte, name string, args any) []byte {
	dst = append(dst, "<tool_call>\n{\"name\": \""...)
	dst = append(dst, name...)
	dst = append(dst, "\", \"arguments\": "...)
	if s, ok := args.(string); ok {
		dst = append(dst, s...)
	} else {
		dst = pyjson.Append(dst, args, nil)
	}
	return append(dst, "}\n</tool_call>"...)
}

// CountPairs is len(re.findall(open+"(.*?)"+close, s, re.S)).
func CountPairs(s, open, close string) int {
	n := 0
	for {
		i := strings.Index(s, open)
		if i < 0 {
			return n
		}
		s = s[i+len(open):]
		j := strings.Index(s, close)
		if j < 0 {
			return n
		}
		n++
		s = s[j+len(close):]
	}
}

// Strip is Python's str.strip(): it trims the characters str.isspace() holds.
func Strip(s string) string {
	i, j := 0, len(s)
	for i < j {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !isSpace(r) {
			break
		}
		i += n
	}
	for j > i {
		r, n := rune(s[j-1]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeLastRuneInString(s[i:j])
		}
		if !isSpace(r) {
			break
		}
		j -= n
	}
	return s[i:j]
}

func isSpace(r rune) bool {
	switch {
	case r == ' ' || r >= '\t' && r <= '\r' || r >= 0x1c && r <= 0x1f:
		return true
	case r < 0x85:
		return false
	}
	switch r {
	case 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// ArgumentsJSON is the call's arguments as OpenAI's function.arguments
// carries them: a JSON string, written as json.dumps(args,
// ensure_ascii=False) writes it (what vLLM's Hermes parser returns).
func (c Call) ArgumentsJSON() string { return pyjson.MarshalString(c.Arguments) }
