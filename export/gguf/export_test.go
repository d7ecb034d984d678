package gguf

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
	"github.com/star-go/star/model/safetensors"
)

// TestExportTensors exports the tiny fixture checkpoints and checks every
// tensor against the safetensors it came from: llama.cpp's name, reversed
// dims, and the exact values (or within Q8_0's step).
func TestExportTensors(t *testing.T) {
	for _, c := range []struct {
		variant, typ string
		tied         bool
	}{
		{"untied-bf16", "bf16", false},
		{"untied-bf16", "f32", false},
		{"tied-f32", "f32", true},
		{"tied-f32", "f16", true},
		{"tied-f32", "q8_0", true},
	} {
		t.Run(c.variant+"/"+c.typ, func(t *testing.T) {
			dir := copyDir(t, fixture.Path(t, "fixtures/tiny-qwen3/"+c.variant))
			addSmallTokenizer(t, dir)
			out := filepath.Join(t.TempDir(), "m.gguf")
			sum, err := Export(context.Background(), dir, out, Options{Type: c.typ, Name: "tiny"})
			if err != nil {
				t.Fatal(err)
			}
			f, err := ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			st, err := safetensors.ReadFile(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if sum.Tensors != len(f.Tensors) || sum.Tied != c.tied || !sum.ChatTemplate || len(sum.Fallback) != 0 {
				t.Errorf("summary %+v", sum)
			}
			_, hasOutput, _ := f.Tensor("output.weight")
			if c.tied == (hasOutput != nil) {
				t.Errorf("tied=%v but output.weight present=%v", c.tied, hasOutput != nil)
			}
			if len(f.Tensors) != len(st.Tensors) {
				t.Errorf("%d tensors, safetensors has %d", len(f.Tensors), len(st.Tensors))
			}
			want := map[string]TensorType{"f32": F32, "f16": F16, "bf16": BF16, "q8_0": Q8_0}[c.typ]
			for hf, src := range st.Tensors {
				name, _ := ggufName(hf)
				info, data, ok := f.Tensor(name)
				if !ok {
					t.Fatalf("%s (%s) missing", name, hf)
				}
				if !slices.Equal(info.Dims, ReverseShape(src.Shape)) {
					t.Errorf("%s: dims %v for shape %v", name, info.Dims, src.Shape)
				}
				wantType := want
				if len(src.Shape) == 1 {
					wantType = F32
				}
				if info.Type != wantType {
					t.Errorf("%s: type %s, want %s", name, info.Type, wantType)
				}
				got, _ := Decode(data, info.Type)
				ref, _ := src.ToFloat32()
				for i := range ref {
					tol := 0.0
					switch info.Type {
					case F16:
						tol = max(math.Abs(float64(ref[i]))*0x1p-11, 0x1p-25) // subnormals: absolute step 2^-24
					case Q8_0:
						tol = 0.02 // weights ~N(0, 0.02²): |x| < 0.2, step < 0.0016
					case BF16:
						if src.DType != safetensors.BF16 {
							tol = math.Abs(float64(ref[i])) * 0x1p-8
						}
					}
					if d := math.Abs(float64(got[i] - ref[i])); d > tol {
						t.Fatalf("%s[%d] = %g, safetensors %g", name, i, got[i], ref[i])
					}
				}
				if src.DType == safetensors.BF16 && info.Type == BF16 && !bytes.Equal(data, src.Data) {
					t.Errorf("%s: BF16 → BF16 is not bit-exact", name)
				}
			}
		})
	}
}

// TestExportMetadata checks the hyperparameters and tokenizer metadata of
// an export of the untied fixture (head_dim 24 ≠ hidden/heads).
func TestExportMetadata(t *testing.T) {
	dir := copyDir(t, fixture.Path(t, "fixtures/tiny-qwen3/untied-bf16"))
	addSmallTokenizer(t, dir)
	out := filepath.Join(t.TempDir(), "m.gguf")
	if _, err := Export(context.Background(), dir, out, Options{Type: "Q8_0"}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := os.ReadFile(fixture.Path(t, "fixtures/qwen3/chat_template.jinja"))
	for key, want := range map[string]any{
		"general.architecture":                   "qwen3",
		"general.name":                           filepath.Base(dir),
		"general.alignment":                      uint32(32),
		"general.file_type":                      uint32(7),
		"general.quantization_version":           uint32(2),
		"qwen3.block_count":                      uint32(3),
		"qwen3.context_length":                   uint32(4096),
		"qwen3.embedding_length":                 uint32(64),
		"qwen3.feed_forward_length":              uint32(96),
		"qwen3.attention.head_count":             uint32(4),
		"qwen3.attention.head_count_kv":          uint32(2),
		"qwen3.attention.key_length":             uint32(24),
		"qwen3.attention.value_length":           uint32(24),
		"qwen3.attention.layer_norm_rms_epsilon": float32(1e-6),
		"qwen3.rope.freq_base":                   float32(1e6),
		"tokenizer.ggml.model":                   "gpt2",
		"tokenizer.ggml.pre":                     "qwen2",
		"tokenizer.ggml.eos_token_id":            uint32(992), // <|im_end|> (tokenizer_config.json)
		"tokenizer.ggml.padding_token_id":        uint32(990), // <|endoftext|>
		"tokenizer.ggml.bos_token_id":            uint32(1),   // bos_token is null: config.json's bos_token_id
		"tokenizer.ggml.add_bos_token":           false,
		"tokenizer.chat_template":                string(tmpl),
	} {
		got, ok := f.Get(key)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", key, got, want)
		}
	}
	tokens, _ := f.Get("tokenizer.ggml.tokens")
	types, _ := f.Get("tokenizer.ggml.token_type")
	toks, tys := tokens.([]string), types.([]int32)
	if len(toks) != 1000 || len(tys) != 1000 {
		t.Fatalf("%d tokens, %d types, want 1000", len(toks), len(tys))
	}
	for id, want := range map[int]struct {
		s   string
		typ int32
	}{
		0: {"!", tokenNormal}, 220: {"Ġ", tokenNormal}, 990: {"<|endoftext|>", tokenControl},
		992: {"<|im_end|>", tokenControl}, 993: {"<think>", tokenUserDefined}, 999: {"[PAD999]", tokenUnused},
	} {
		if toks[id] != want.s || tys[id] != want.typ {
			t.Errorf("token %d = %q type %d, want %q type %d", id, toks[id], tys[id], want.s, want.typ)
		}
	}
	merges, _ := f.Get("tokenizer.ggml.merges")
	if m := merges.([]string); len(m) < 100 || m[0] != "Ġ Ġ" {
		t.Errorf("%d merges, first %q", len(m), m[0])
	}
}

// TestQwenVocab reads the real Qwen3 tokenizer as for a 151,936-row embedding.
func TestQwenVocab(t *testing.T) {
	dir := t.TempDir()
	addQwenTokenizer(t, dir)
	v, err := readVocab(dir, 151936, map[string]json.RawMessage{"bos_token_id": json.RawMessage("151643")})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.tokens) != 151936 || len(v.merges) != 151387 {
		t.Errorf("%d tokens, %d merges", len(v.tokens), len(v.merges))
	}
	for id, want := range map[int]struct {
		s   string
		typ int32
	}{
		9707: {"Hello", tokenNormal}, 151643: {"<|endoftext|>", tokenControl}, 151644: {"<|im_start|>", tokenControl},
		151657: {"<tool_call>", tokenUserDefined}, 151667: {"<think>", tokenUserDefined},
		151668: {"</think>", tokenUserDefined}, 151669: {"[PAD151669]", tokenUnused}, 151935: {"[PAD151935]", tokenUnused},
	} {
		if v.tokens[id] != want.s || v.types[id] != want.typ {
			t.Errorf("token %d = %q type %d, want %q type %d", id, v.tokens[id], v.types[id], want.s, want.typ)
		}
	}
	want := []KV{
		{"tokenizer.ggml.bos_token_id", uint32(151643)},
		{"tokenizer.ggml.eos_token_id", uint32(151645)},
		{"tokenizer.ggml.padding_token_id", uint32(151643)},
		{"tokenizer.ggml.add_bos_token", false},
	}
	if !reflect.DeepEqual(v.special, want) {
		t.Errorf("special tokens %v, want %v", v.special, want)
	}
	// Without add_bos_token in tokenizer_config.json, the post-processor decides.
	editJSON(t, filepath.Join(dir, "tokenizer_config.json"), "add_bos_token", nil)
	for pp, want := range map[string]bool{
		`{"type": "ByteLevel", "add_prefix_space": false}`: false,
		`{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]}`:               true,
		`{"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}]}]}`: false,
		`{"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "RobertaProcessing"}]}`:                                                       true,
	} {
		var raw any
		json.Unmarshal([]byte(pp), &raw)
		editJSON(t, filepath.Join(dir, "tokenizer.json"), "post_processor", raw)
		v, err := readVocab(dir, 151936, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.special[len(v.special)-1]; got != (KV{"tokenizer.ggml.add_bos_token", want}) {
			t.Errorf("post_processor %s: %v, want add_bos_token %v", pp, got, want)
		}
	}
	if _, err := readVocab(dir, 151000, nil); err == nil || !strings.Contains(err.Error(), "outside the model's vocab_size 151000") {
		t.Errorf("small vocab: %v", err)
	}
}

// TestExportShards: a sharded checkpoint exports to the same bytes as the
// single-file one.
func TestExportShards(t *testing.T) {
	single := copyDir(t, fixture.Path(t, "fixtures/tiny-qwen3/untied-bf16"))
	addSmallTokenizer(t, single)
	m, err := model.Load(single)
	if err != nil {
		t.Fatal(err)
	}
	sharded := filepath.Join(t.TempDir(), "sharded")
	if err := m.Save(sharded, model.SaveOptions{MaxShardBytes: 40 << 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(sharded, "model.safetensors.index.json")); err != nil {
		t.Fatalf("not sharded: %v", err)
	}
	var outs [][]byte
	for _, dir := range []string{single, sharded} {
		out := filepath.Join(t.TempDir(), "m.gguf")
		if _, err := Export(context.Background(), dir, out, Options{Name: "x", Type: "bf16"}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(out)
		outs = append(outs, b)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("the sharded checkpoint exports differently")
	}
}

// TestExportErrors: bad input gets a clear error and leaves no file behind.
func TestExportErrors(t *testing.T) {
	base := copyDir(t, fixture.Path(t, "fixtures/tiny-qwen3/tied-f32"))
	addSmallTokenizer(t, base)
	cases := []struct {
		name  string
		edit  func(dir string)
		out   func(t *testing.T) string
		opt   Options
		want  string
		skipR bool // needs a non-root user
	}{
		{name: "llama config", edit: func(dir string) {
			editJSON(t, filepath.Join(dir, "config.json"), "model_type", "llama")
			editJSON(t, filepath.Join(dir, "config.json"), "architectures", []string{"LlamaForCausalLM"})
		}, want: "unsupported architecture [LlamaForCausalLM]"},
		{name: "no tokenizer", edit: func(dir string) { os.Remove(filepath.Join(dir, "tokenizer.json")) }, want: "no tokenizer.json"},
		{name: "other pre-tokenizer", edit: func(dir string) {
			editJSON(t, filepath.Join(dir, "tokenizer.json"), "pre_tokenizer", map[string]any{"type": "ByteLevel"})
		}, want: "pre_tokenizer: not Qwen2/Qwen3's"},
		{name: "missing tensor", edit: func(dir string) { editJSON(t, filepath.Join(dir, "config.json"), "num_hidden_layers", 3) },
			want: `missing tensor "model.layers.2.input_layernorm.weight"`},
		{name: "no context length", edit: func(dir string) { editJSON(t, filepath.Join(dir, "config.json"), "max_position_embeddings", nil) },
			want: "max_position_embeddings 0"},
		{name: "attention bias", edit: func(dir string) { editJSON(t, filepath.Join(dir, "config.json"), "attention_bias", true) },
			want: "attention_bias=true"},
		{name: "no weights", edit: func(dir string) { os.Remove(filepath.Join(dir, "model.safetensors")) }, want: "no model.safetensors"},
		{name: "bad type", opt: Options{Type: "q4_0"}, want: `type "q4_0"`},
		{name: "no output dir", out: func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope", "m.gguf") }, want: "cannot write"},
		{name: "output is a dir", out: func(t *testing.T) string { return t.TempDir() }, want: "is a directory"},
		{name: "parent is a file", out: func(t *testing.T) string {
			f := filepath.Join(t.TempDir(), "file")
			os.WriteFile(f, nil, 0o644)
			return filepath.Join(f, "m.gguf")
		}, want: "not a directory"},
		{name: "read-only dir", out: func(t *testing.T) string {
			d := t.TempDir()
			os.Chmod(d, 0o555)
			t.Cleanup(func() { os.Chmod(d, 0o755) })
			return filepath.Join(d, "m.gguf")
		}, want: "cannot write", skipR: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skipR && (runtime.GOOS == "windows" || os.Geteuid() == 0) {
				t.Skip("permissions do not bind root")
			}
			dir := copyDir(t, base)
			if c.edit != nil {
				c.edit(dir)
			}
			out := filepath.Join(t.TempDir(), "m.gguf")
			if c.out != nil {
				out = c.out(t)
			}
			_, err := Export(context.Background(), dir, out, c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if st, err := os.Stat(out); err == nil && !st.IsDir() {
				t.Errorf("%s was written", out)
			}
		})
	}

	// A cancelled export leaves an existing file as it was and no temporary file.
	outDir := t.TempDir()
	out := filepath.Join(outDir, "m.gguf")
	os.WriteFile(out, []byte("old"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Export(ctx, base, out, Options{}); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("cancelled export: %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("existing file changed to %d bytes", len(b))
	}
	if l := leftovers(t, outDir); len(l) != 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestEncodeChunks: a tensor converted a block of rows at a time gives the
// same bytes as converted whole.
func TestEncodeChunks(t *testing.T) {
	rows, cols := 3*chunkValues/96+5, 96 // several chunks, the last one short
	vals := make([]float32, rows*cols)
	for i := range vals {
		vals[i] = float32(math.Sin(float64(i) * 0.37))
	}
	src, err := safetensors.FromFloat32("w", safetensors.BF16, []int{rows, cols}, vals)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []TensorType{F32, F16, Q8_0} {
		var got []byte
		chunks := 0
		for data, err := range encodeChunks(&src, typ) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, data...)
			chunks++
		}
		wide, _ := src.ToFloat32()
		want, _ := Encode(wide, typ)
		if chunks != 4 || !bytes.Equal(got, want) {
			t.Errorf("%s: %d chunks, equal=%v", typ, chunks, bytes.Equal(got, want))
		}
	}
}
