package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/model"
	"github.com/star-go/star/tokenizer"
)

func init() {
	register(
		command{name: "model init", summary: "write a random seeded Qwen3 checkpoint (HF layout)", run: runModelInit},
		command{name: "model info", summary: "print a checkpoint's shape, parameter count and dtype", run: runModelInfo},
		command{name: "model logits", summary: "print the logits rows of --ids as a JSON array", run: runModelLogits},
		command{name: "model generate", summary: "continue --ids or a --prompt (greedy or sampled) → JSON tokens, logprobs, text", run: runModelGenerate},
	)
}

// shapeFlags are the model-shape flags shared by `model init` and the benchmarks.
type shapeFlags struct {
	vocab, hidden, layers, heads, kvHeads, headDim, intermediate *int
	tie                                                          *bool
}

func addShapeFlags(fs *flag.FlagSet, vocab, hidden, layers, heads, kvHeads, headDim, intermediate int) *shapeFlags {
	return &shapeFlags{
		vocab:        fs.Int("vocab", vocab, "vocabulary size"),
		hidden:       fs.Int("hidden", hidden, "hidden size"),
		layers:       fs.Int("layers", layers, "number of decoder layers"),
		heads:        fs.Int("heads", heads, "attention heads"),
		kvHeads:      fs.Int("kv-heads", kvHeads, "key/value heads (GQA)"),
		headDim:      fs.Int("head-dim", headDim, "head dimension"),
		intermediate: fs.Int("intermediate", intermediate, "MLP intermediate size"),
		tie:          fs.Bool("tie", false, "tie lm_head to the embedding"),
	}
}

func (s *shapeFlags) config() (*model.Config, error) {
	c := model.NewConfig(*s.vocab, *s.hidden, *s.layers, *s.heads, *s.kvHeads, *s.headDim, *s.intermediate, *s.tie)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return c, nil
}

func runModelInit(ctx context.Context, args []string) error {
	fs := newFlags("model init", "--vocab N --hidden N --layers N --heads N --kv-heads N --head-dim N --intermediate N [--tie] [--seed S] [--dtype f32|bf16] [--tokenizer DIR] -o DIR")
	sf := addShapeFlags(fs, 0, 0, 0, 0, 0, 0, 0)
	seed := fs.Uint64("seed", 0, "random seed")
	tokDir := fs.String("tokenizer", "", "copy this directory's tokenizer and chat template into the model and take BOS/EOS ids from it")
	dtype := fs.String("dtype", "f32", "storage dtype: f32 or bf16")
	out := fs.String("o", "", "output directory")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, pos)
	}
	if *out == "" {
		return fmt.Errorf("%w: -o DIR is required", errUsage)
	}
	dt := map[string]string{"f32": "F32", "bf16": "BF16"}[strings.ToLower(*dtype)]
	if dt == "" {
		return fmt.Errorf("%w: --dtype must be f32 or bf16, not %q", errUsage, *dtype)
	}
	cfg, err := sf.config()
	if err != nil {
		return err
	}
	if *tokDir != "" {
		if err := useTokenizerIDs(cfg, *tokDir); err != nil {
			return err
		}
	}
	m, err := model.NewRandom(cfg, *seed)
	if err != nil {
		return err
	}
	if *tokDir != "" {
		m.UseTokenizer(*tokDir)
	}
	if err := m.Save(*out, model.SaveOptions{DType: dt}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d parameters, %s\n", *out, cfg.NumParams(), dt)
	return nil
}

// useTokenizerIDs sets a new model's special ids from a Qwen3-style tokenizer
// directory as Qwen3's own config does: BOS = <|endoftext|>, EOS =
// <|im_end|> (the chat turn end) then <|endoftext|>. The vocabulary must
// cover every tokenizer id.
func useTokenizerIDs(cfg *model.Config, dir string) error {
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return err
	}
	if tok.VocabSize() > cfg.VocabSize {
		return fmt.Errorf("%w: --vocab %d is smaller than the tokenizer in %s (%d ids)", errUsage, cfg.VocabSize, dir, tok.VocabSize())
	}
	var eos []int
	for _, t := range []string{"<|im_end|>", "<|endoftext|>"} {
		if id, ok := tok.TokenID(t); ok {
			eos = append(eos, id)
		}
	}
	if len(eos) == 0 {
		return fmt.Errorf("%s: the tokenizer has neither <|im_end|> nor <|endoftext|>", dir)
	}
	if id, ok := tok.TokenID("<|endoftext|>"); ok {
		cfg.BOSTokenID = &id
	}
	b, err := json.Marshal(eos)
	if err != nil {
		return err
	}
	cfg.EOSTokenID = b
	return nil
}

func runModelInfo(ctx context.Context, args []string) error {
	fs := newFlags("model info", "DIR")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want one model directory", errUsage)
	}
	m, err := model.Load(pos[0])
	if err != nil {
		return err
	}
	c := m.Config
	info := map[string]any{
		"architecture": c.Architectures, "vocab_size": c.VocabSize, "hidden_size": c.HiddenSize,
		"num_hidden_layers": c.NumHiddenLayers, "num_attention_heads": c.NumAttentionHeads,
		"num_key_value_heads": c.NumKeyValueHeads, "head_dim": c.HeadDim, "intermediate_size": c.IntermediateSize,
		"tie_word_embeddings": c.TieWordEmbeddings, "parameters": c.NumParams(), "dtype": m.DType,
		"eos_token_ids": m.EOSIDs(),
	}
	return json.NewEncoder(os.Stdout).Encode(info)
}

// parseIDs reads "5,17,42".
func parseIDs(s string) ([]int, error) {
	var ids []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%w: --ids: %q is not an integer", errUsage, f)
		}
		ids = append(ids, v)
	}
	return ids, nil
}

// useBackend runs m on the backend spec, if one is given.
func useBackend(m *model.Model, spec string) error {
	if spec == "" {
		return nil
	}
	e, err := model.NewEngine(spec)
	if err != nil {
		return err
	}
	m.Use(e)
	return nil
}

// loadModel loads --model and switches to --backend if given.
func loadModel(dir, backend string) (*model.Model, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: --model DIR is required", errUsage)
	}
	m, err := model.Load(dir)
	if err != nil {
		return nil, err
	}
	if err := useBackend(m, backend); err != nil {
		return nil, err
	}
	return m, nil
}

func runModelLogits(ctx context.Context, args []string) error {
	fs := newFlags("model logits", "--model DIR --ids 5,17,42")
	dir := fs.String("model", "", "model directory")
	idsFlag := fs.String("ids", "", "comma-separated token ids")
	backend := fs.String("backend", "", "compute backend: go (default) or xla:cuda, ... (also $STAR_BACKEND)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	ids, err := parseIDs(*idsFlag)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("%w: --ids is required", errUsage)
	}
	m, err := loadModel(*dir, *backend)
	if err != nil {
		return err
	}
	rows, err := m.Logits([][]int{ids})
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(rows[0])
}

// promptToIDs turns --prompt text into token ids with the model directory's
// tokenizer: rendered as one user turn with its chat template (thinking off
// when noThinking), or tokenized as is when raw or when there is no template.
func promptToIDs(tok *tokenizer.Tokenizer, modelDir, prompt string, raw, noThinking bool) ([]int, error) {
	if raw {
		return tok.Encode(prompt), nil
	}
	tmpl, err := chat.Load(modelDir)
	if err != nil {
		return nil, fmt.Errorf("%w (pass --raw to tokenize the prompt as is)", err)
	}
	opt := chat.Options{AddGenerationPrompt: true}
	if noThinking {
		f := false
		opt.EnableThinking = &f
	}
	text, err := tmpl.Render([]any{pyjson.NewObject("role", "user", "content", prompt)}, nil, opt)
	if err != nil {
		return nil, err
	}
	return tok.Encode(text), nil
}

func runModelGenerate(ctx context.Context, args []string) error {
	fs := newFlags("model generate", "--model DIR (--ids 5,17,42 | --prompt TEXT) [--max-new-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S] [--logprobs K]")
	dir := fs.String("model", "", "model directory")
	idsFlag := fs.String("ids", "", "comma-separated prompt token ids")
	prompt := fs.String("prompt", "", "prompt text: one user turn in the model's chat template (needs tokenizer files)")
	raw := fs.Bool("raw", false, "with --prompt, tokenize the text as is (no chat template)")
	noThinking := fs.Bool("no-thinking", false, "with --prompt, enable_thinking=false")
	stop := fs.String("stop", "", "comma-separated stop strings (needs tokenizer files)")
	maxNew := fs.Int("max-new-tokens", 16, "maximum tokens to generate")
	temp := fs.Float64("temperature", 0, "sampling temperature (0 = greedy)")
	topP := fs.Float64("top-p", 1, "nucleus sampling mass")
	topK := fs.Int("top-k", 0, "sample among the k most likely tokens (0 = all)")
	seed := fs.Uint64("seed", 0, "sampling seed")
	logprobs := fs.Int("logprobs", 0, "also return the top K log-probs at every step")
	backend := fs.String("backend", "", "compute backend: go (default) or xla:cuda, ... (also $STAR_BACKEND)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	var ids []int
	var err error
	// The tokenizer is optional: with it, --prompt and --stop work and the
	// output carries the decoded text.
	tok, tokErr := tokenizer.Load(*dir)
	switch {
	case *idsFlag != "" && *prompt != "":
		return fmt.Errorf("%w: give --ids or --prompt, not both", errUsage)
	case *prompt != "":
		if tok == nil {
			return fmt.Errorf("--prompt needs the tokenizer of %s: %w", *dir, tokErr)
		}
		if ids, err = promptToIDs(tok, *dir, *prompt, *raw, *noThinking); err != nil {
			return err
		}
	default:
		if ids, err = parseIDs(*idsFlag); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("%w: --ids or --prompt is required", errUsage)
	}
	if *maxNew <= 0 || *temp < 0 || *topP <= 0 || *topP > 1 || *topK < 0 || *logprobs < 0 {
		return fmt.Errorf("%w: need --max-new-tokens > 0, --temperature ≥ 0, 0 < --top-p ≤ 1, --top-k ≥ 0, --logprobs ≥ 0", errUsage)
	}
	m, err := loadModel(*dir, *backend)
	if err != nil {
		return err
	}
	opt := model.GenerateOptions{
		MaxNewTokens: *maxNew, Temperature: *temp, TopP: *topP, TopK: *topK, Seed: *seed, TopLogprobs: *logprobs,
	}
	if *stop != "" {
		if tok == nil {
			return fmt.Errorf("--stop needs the tokenizer of %s: %w", *dir, tokErr)
		}
		opt.StopStrings = strings.Split(*stop, ",")
		opt.Decode = tok.Decode
	}
	gens, err := m.Generate(ctx, [][]int{ids}, opt)
	if err != nil {
		return err
	}
	out := struct {
		model.Generation
		Text *string `json:"text,omitempty"`
	}{Generation: gens[0]}
	if tok != nil {
		text := tok.Decode(gens[0].Tokens)
		out.Text = &text
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
