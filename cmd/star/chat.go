package main

import (
	"context"
	"fmt"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/internal/pyjson"
)

func init() {
	register(command{name: "chat render", summary: "render {messages, tools} with the model's chat template → {text}", run: runChatRender})
}

func runChatRender(ctx context.Context, args []string) error {
	fs := newFlags("chat render", "--model DIR [--add-generation-prompt] [--no-thinking] [IN.jsonl] [-o OUT.jsonl]")
	modelDir := fs.String("model", "", "HF model directory (chat_template.jinja or tokenizer_config.json)")
	addGen := fs.Bool("add-generation-prompt", false, "end with the assistant generation prompt")
	noThinking := fs.Bool("no-thinking", false, "enable_thinking=false (Qwen3: an empty think block)")
	out := fs.String("o", "-", "output JSONL")
	rejects := fs.String("rejects", "", "write rejected records with reasons to this JSONL file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	in, err := modelAndInput(fs, pos, *modelDir)
	if err != nil {
		return err
	}
	tmpl, err := chat.Load(*modelDir)
	if err != nil {
		return err
	}
	opt := chat.Options{AddGenerationPrompt: *addGen}
	if *noThinking {
		f := false
		opt.EnableThinking = &f
	}
	s := &recordStream{label: "chat render", in: in, out: *out, rejects: *rejects,
		fn: func(v any) ([]any, error) {
			rec, err := message.Parse(v)
			if err != nil {
				return nil, err
			}
			var tools []any
			if len(rec.Tools) > 0 {
				tools = message.ToolsJSON(rec.Tools)
			}
			text, err := tmpl.Render(message.MessagesJSON(rec.Messages), tools, opt)
			if err != nil {
				return nil, fmt.Errorf("chat template: %w", err)
			}
			return []any{pyjson.NewObject("text", text)}, nil
		}}
	return s.run(ctx)
}
