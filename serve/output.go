package serve

import (
	"strings"
	"unicode/utf8"

	"github.com/star-go/star/toolcall"
)

// parts is a chat completion split as OpenAI returns it.
type parts struct {
	Reasoning    string
	HasReasoning bool
	Content      string
	Calls        []toolcall.Call
}

// split parses a generated text into reasoning, content and tool calls
// (toolcall's rules: the first <think> block is the reasoning, stripped;
// the content is what follows the last </think>, stripped, with complete
// <tool_call> blocks taken out as calls when parseCalls). While the text is
// still growing (final false) it parses only the part that cannot change
// meaning later: an unterminated <tool_call> block, a partial tag or a
// partial UTF-8 character at the end waits, and so does trailing space
// (stripping removes it if nothing follows).
func split(text string, parseCalls, final bool) parts {
	if !final {
		text = text[:stableLen(text, parseCalls)]
	}
	var p parts
	rest := text
	if i := strings.LastIndex(text, toolcall.ThinkClose); i >= 0 {
		p.Reasoning, p.HasReasoning = toolcall.Parse(text[:i+len(toolcall.ThinkClose)]).Reasoning, true
		rest = text[i+len(toolcall.ThinkClose):]
	} else if t := toolcall.Strip(text); strings.HasPrefix(t, toolcall.ThinkOpen) {
		// Thinking, not finished (or cut by max_tokens).
		p.Reasoning, p.HasReasoning = toolcall.Strip(t[len(toolcall.ThinkOpen):]), true
		rest = ""
	}
	if parseCalls {
		m := toolcall.Parse(rest)
		p.Content, p.Calls = m.Content, m.Calls
	} else {
		p.Content = toolcall.Strip(rest)
	}
	return p
}

var tags = []string{toolcall.ThinkOpen, toolcall.ThinkClose, toolcall.CallOpen, toolcall.CallClose}

// stableLen is the length of the prefix of a growing text that split may read.
func stableLen(text string, parseCalls bool) int {
	n := len(text)
	// A partial UTF-8 character decodes as U+FFFD until its last byte arrives.
	for k := 0; k < 3 && strings.HasSuffix(text[:n], "\uFFFD"); k++ {
		n -= len("\uFFFD")
	}
	n -= partialSuffix(text[:n], tags)
	if parseCalls {
		if i := strings.LastIndex(text[:n], toolcall.CallOpen); i >= 0 && !strings.Contains(text[i:n], toolcall.CallClose) {
			n = i
		}
	}
	return n
}

// partialSuffix is the length of the longest suffix of s that is a proper
// prefix of one of words.
func partialSuffix(s string, words []string) int {
	best := 0
	for _, w := range words {
		for k := min(len(w)-1, len(s)); k > best; k-- {
			if strings.HasSuffix(s, w[:k]) {
				best = k
				break
			}
		}
	}
	return best
}

// cutStop cuts text before the first stop string; found reports a cut.
func cutStop(text string, stops []string) (string, bool) {
	cut := -1
	for _, s := range stops {
		if i := strings.Index(text, s); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return text, false
	}
	return text[:cut], true
}

// streamText is the part of a growing completion that can be sent: cut at
// a stop string, without a partial stop string or UTF-8 character at the end.
func streamText(text string, stops []string, final bool) string {
	text, found := cutStop(text, stops)
	if final || found {
		return text
	}
	n := len(text) - partialSuffix(text, stops)
	for k := 0; k < 3 && strings.HasSuffix(text[:n], "\uFFFD"); k++ {
		n -= len("\uFFFD")
	}
	return text[:n]
}

// differ sends a growing string as deltas.
type differ struct{ sent string }

// next returns what s adds to what was sent. A string that does not extend
// it (a reinterpretation, e.g. reasoning closed without its opening tag)
// sends nothing more.
func (d *differ) next(s string) string {
	if !strings.HasPrefix(s, d.sent) {
		return ""
	}
	delta := s[len(d.sent):]
	d.sent = s
	return delta
}

// validUTF8 replaces invalid bytes (JSON strings must be UTF-8).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
