// Package trainset turns message records into the prompt/target text pairs
// STAR trains on, exactly as the original messages_to_trainset.py does
// (STAR-SPEC §4):
//
//	inputs  = render(messages[:-1], tools, add_generation_prompt) + "<think>"
//	targets = render([last]) without its "<|im_start|>assistant\n" header and
//	          a leading "<think>", with "</think>" in front
//
// and, with reasoning, the last message's reasoning_content before that
// "</think>". The student therefore always starts generating inside a think
// block, and the target closes it.
package trainset

import (
	"strings"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/internal/pyjson"
)

// Row is one training example.
type Row struct {
	ID      any
	Inputs  string
	Targets string
}

// Object is the row as written: {"id", "inputs", "targets"}.
func (r Row) Object() *pyjson.Object {
	return pyjson.NewObject("id", r.ID, "inputs", r.Inputs, "targets", r.Targets)
}

// Builder renders rows with one model's chat template.
type Builder struct {
	Template *chat.Template
	// Reasoning puts the target's reasoning_content before "</think>"
	// (messages_to_trainset --add-reasoning-content, used for CKD data).
	Reasoning bool
}

const (
	assistantHeader = "<|im_start|>assistant\n"
	thinkOpen       = "<think>"
	thinkClose      = "</think>"
)

// Build makes the row for a record whose last message is the assistant
// target. Errors are *jsonl.FieldError.
func (b *Builder) Build(r *message.Record) (Row, error) {
	last := r.Last()
	if last.Role != message.Assistant {
		return Row{}, jsonl.Errorf("messages", "last message is %q; the training target must be an assistant message", last.Role)
	}
	inputs, err := Inputs(b.Template, r)
	if err != nil {
		return Row{}, err
	}
	targets, err := Targets(b.Template, last, b.Reasoning)
	if err != nil {
		return Row{}, err
	}
	return Row{ID: r.ID, Inputs: inputs, Targets: targets}, nil
}

// Inputs is the prompt: every message but the last, the tools, the
// generation prompt, and an opened think block.
func Inputs(t *chat.Template, r *message.Record) (string, error) {
	var tools []any
	if len(r.Tools) > 0 {
		tools = message.ToolsJSON(r.Tools)
	}
	s, err := t.Render(message.MessagesJSON(r.Messages[:len(r.Messages)-1]), tools, chat.Options{AddGenerationPrompt: true})
	if err != nil {
		return "", jsonl.Errorf("messages", "chat template: %v", err)
	}
	return s + thinkOpen, nil
}

// Targets is the text the model is trained to produce after Inputs.
func Targets(t *chat.Template, last *message.Message, reasoning bool) (string, error) {
	s, err := t.Render([]any{last.Object()}, nil, chat.Options{})
	if err != nil {
		return "", jsonl.Errorf("messages", "chat template (target): %v", err)
	}
	s = strings.TrimPrefix(s, assistantHeader)
	s = strings.TrimPrefix(s, thinkOpen)
	if !strings.HasPrefix(s, thinkClose) {
		s = thinkClose + s
	}
	if reasoning {
		s = last.Reasoning() + s
	}
	return s, nil
}
