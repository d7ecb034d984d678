package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/star-go/star/export/gguf"
	"github.com/star-go/star/internal/progress"
)

func init() {
	register(
		command{name: "export gguf", summary: "write a Qwen3 checkpoint + tokenizer + chat template as one GGUF file (llama.cpp, Ollama)", run: runExportGGUF},
	)
}

func runExportGGUF(ctx context.Context, args []string) error {
	fs := newFlags("export gguf", "MODEL_DIR -o model.gguf [--type f32|f16|bf16|q8_0] [--name NAME]")
	out := fs.String("o", "", "output GGUF file (written atomically)")
	typ := fs.String("type", "f32", "weight matrices as f32, f16, bf16 or q8_0 (norms stay f32)")
	name := fs.String("name", "", "general.name (default: the directory's name)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want one model directory", errUsage)
	}
	if *out == "" {
		return fmt.Errorf("%w: -o FILE is required", errUsage)
	}
	switch strings.ToLower(*typ) {
	case "f32", "f16", "bf16", "q8_0":
	default:
		return fmt.Errorf("%w: --type must be f32, f16, bf16 or q8_0, not %q", errUsage, *typ)
	}
	var bar *progress.Bar
	sum, err := gguf.Export(ctx, pos[0], *out, gguf.Options{Type: *typ, Name: *name, Progress: func(done, total int64) {
		if bar == nil {
			bar = progress.New("export gguf", total, "B")
		}
		bar.Set(done, 0)
	}})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d tensors, %s, vocab %d, %.1f MB\n", sum.Path, sum.Tensors, sum.Type, sum.VocabSize, float64(sum.Bytes)/1e6)
	if len(sum.Fallback) > 0 {
		fmt.Fprintf(os.Stderr, "note: %d tensors stored as F16, their rows are not a multiple of 32: %s\n", len(sum.Fallback), strings.Join(sum.Fallback, ", "))
	}
	if !sum.ChatTemplate {
		fmt.Fprintf(os.Stderr, "warning: %s has no chat template (chat_template.jinja or tokenizer_config.json): chat front ends will need one\n", pos[0])
	}
	return nil
}
