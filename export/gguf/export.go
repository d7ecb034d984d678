package gguf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/star-go/star/model"
	"github.com/star-go/star/model/safetensors"
)

// Options configure Export.
type Options struct {
	// Type of the weight matrices: "f32" (default), "f16", "bf16" or "q8_0".
	// Norm weights (1-D) always stay F32, as llama.cpp expects; with q8_0 a
	// matrix whose rows are not a multiple of 32 falls back to F16.
	Type string
	// Name is general.name (default: the model directory's base name).
	Name string
	// Progress, if set, is called with bytes of tensor data written so far and the total.
	Progress func(done, total int64)
}

// Summary describes an exported file.
type Summary struct {
	Path         string
	Type         string
	Tensors      int
	Bytes        int64 // file size
	VocabSize    int
	Tied         bool     // no output.weight: llama.cpp reuses token_embd
	ChatTemplate bool     // tokenizer.chat_template was written
	Fallback     []string // q8_0 only: tensors stored as F16 because their rows are not a multiple of 32
}

// fileTypes maps --type to the matrices' tensor type and general.file_type
// (llama.cpp's llama_ftype: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_BF16).
var fileTypes = map[string]struct {
	tensor TensorType
	ftype  uint32
}{
	"f32":  {F32, 0},
	"f16":  {F16, 1},
	"q8_0": {Q8_0, 7},
	"bf16": {BF16, 32},
}

// quantizationVersion is ggml's GGML_QNT_VERSION, written by every converter.
const quantizationVersion = 2

// Export writes the Qwen3 checkpoint in dir (config.json, model.safetensors
// or shards, tokenizer.json, tokenizer_config.json, chat_template.jinja) as
// one GGUF file at out for llama.cpp's "qwen3" architecture. The file is
// written to a temporary file beside out and renamed at the end, so out
// either is complete or was not touched.
func Export(ctx context.Context, dir, out string, opt Options) (*Summary, error) {
	if opt.Type == "" {
		opt.Type = "f32"
	}
	ft, ok := fileTypes[strings.ToLower(opt.Type)]
	if !ok {
		return nil, fmt.Errorf("gguf: type %q: want f32, f16, bf16 or q8_0", opt.Type)
	}
	if opt.Name == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		opt.Name = filepath.Base(abs)
	}
	cfg, err := model.ReadConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if cfg.MaxPositionEmbeddings <= 0 {
		return nil, fmt.Errorf("%s: config.json: max_position_embeddings %d: the GGUF needs the context length", dir, cfg.MaxPositionEmbeddings)
	}
	if cfg.AttentionBias {
		return nil, fmt.Errorf("%s: config.json: attention_bias=true: llama.cpp's qwen3 architecture has no attention biases", dir)
	}
	rawCfg, err := readJSONObject(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	voc, err := readVocab(dir, cfg.VocabSize, rawCfg)
	if err != nil {
		return nil, err
	}
	weights, err := readWeights(dir)
	if err != nil {
		return nil, err
	}
	plan, err := planTensors(cfg, weights, ft.tensor)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}

	kv := []KV{
		{"general.architecture", "qwen3"},
		{"general.type", "model"},
		{"general.name", opt.Name},
		{"general.alignment", uint32(DefaultAlignment)},
		{"general.file_type", ft.ftype},
		{"general.quantization_version", uint32(quantizationVersion)},
		{"qwen3.block_count", uint32(cfg.NumHiddenLayers)},
		{"qwen3.context_length", uint32(cfg.MaxPositionEmbeddings)},
		{"qwen3.embedding_length", uint32(cfg.HiddenSize)},
		{"qwen3.feed_forward_length", uint32(cfg.IntermediateSize)},
		{"qwen3.attention.head_count", uint32(cfg.NumAttentionHeads)},
		{"qwen3.attention.head_count_kv", uint32(cfg.NumKeyValueHeads)},
		{"qwen3.attention.key_length", uint32(cfg.HeadDim)},
		{"qwen3.attention.value_length", uint32(cfg.HeadDim)},
		{"qwen3.attention.layer_norm_rms_epsilon", float32(cfg.RMSNormEps)},
		{"qwen3.rope.freq_base", float32(cfg.RopeTheta)},
		{"tokenizer.ggml.model", "gpt2"},
		{"tokenizer.ggml.pre", "qwen2"},
		{"tokenizer.ggml.tokens", voc.tokens},
		{"tokenizer.ggml.token_type", voc.types},
		{"tokenizer.ggml.merges", voc.merges},
	}
	kv = append(kv, voc.special...)
	kv = append(kv, voc.templates...)

	infos := make([]TensorInfo, len(plan))
	var total int64
	for i, p := range plan {
		infos[i] = p.info
		size, _ := p.info.Size()
		total += size
	}
	sum := &Summary{Path: out, Type: strings.ToLower(opt.Type), Tensors: len(plan), VocabSize: cfg.VocabSize,
		Tied: cfg.TieWordEmbeddings, ChatTemplate: len(voc.templates) > 0}
	for _, p := range plan {
		if p.fallback {
			sum.Fallback = append(sum.Fallback, p.info.Name)
		}
	}

	err = writeAtomic(out, func(f *os.File) error {
		gw, err := NewWriter(f, kv, infos)
		if err != nil {
			return err
		}
		var done int64
		for _, p := range plan {
			if err := ctx.Err(); err != nil {
				return err
			}
			err := gw.WriteTensorChunks(func(yield func([]byte, error) bool) {
				for data, err := range encodeChunks(p.src, p.info.Type) {
					if err != nil {
						yield(nil, fmt.Errorf("tensor %q: %w", p.info.Name, err))
						return
					}
					if !yield(data, nil) {
						return
					}
					done += int64(len(data))
					if opt.Progress != nil {
						opt.Progress(done, total)
					}
				}
			})
			if err != nil {
				return err
			}
		}
		return gw.Close()
	})
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(out); err == nil {
		sum.Bytes = st.Size()
	}
	return sum, nil
}

// chunkValues bounds the values converted at once, so that exporting a big
// embedding does not hold it twice more in memory.
const chunkValues = 1 << 20

// encodeChunks converts src to type t a block of whole rows at a time.
func encodeChunks(src *safetensors.Tensor, t TensorType) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		n, row := src.NumElements(), src.Shape[len(src.Shape)-1]
		es := safetensors.ElemSize(src.DType)
		step := max(1, chunkValues/row) * row
		for start := 0; start < n; start += step {
			k := min(step, n-start)
			part := safetensors.Tensor{Name: src.Name, DType: src.DType, Shape: []int{k}, Data: src.Data[start*es : (start+k)*es]}
			vals, err := part.ToFloat32()
			var data []byte
			if err == nil {
				data, err = Encode(vals, t)
			}
			if !yield(data, err) || err != nil {
				return
			}
		}
	}
}

// plannedTensor is one GGUF tensor and the safetensors tensor it comes from.
type plannedTensor struct {
	info     TensorInfo
	src      *safetensors.Tensor
	fallback bool
}

// ggufNames maps the HF tensor names of one Qwen3 layer to llama.cpp's.
// No permutation is needed: unlike llama, llama.cpp's qwen3 graph applies
// RoPE in the NEOX layout (rotate halves), which is HF's rotate_half.
var ggufNames = map[string]string{
	"input_layernorm.weight":          "attn_norm.weight",
	"self_attn.q_proj.weight":         "attn_q.weight",
	"self_attn.k_proj.weight":         "attn_k.weight",
	"self_attn.v_proj.weight":         "attn_v.weight",
	"self_attn.o_proj.weight":         "attn_output.weight",
	"self_attn.q_norm.weight":         "attn_q_norm.weight",
	"self_attn.k_norm.weight":         "attn_k_norm.weight",
	"post_attention_layernorm.weight": "ffn_norm.weight",
	"mlp.gate_proj.weight":            "ffn_gate.weight",
	"mlp.up_proj.weight":              "ffn_up.weight",
	"mlp.down_proj.weight":            "ffn_down.weight",
}

// ggufName returns the llama.cpp name of an HF Qwen3 tensor.
func ggufName(hf string) (string, bool) {
	switch hf {
	case "model.embed_tokens.weight":
		return "token_embd.weight", true
	case "model.norm.weight":
		return "output_norm.weight", true
	case "lm_head.weight":
		return "output.weight", true
	}
	var layer int
	var rest string
	if n, _ := fmt.Sscanf(hf, "model.layers.%d.", &layer); n == 1 {
		rest = strings.TrimPrefix(hf, fmt.Sprintf("model.layers.%d.", layer))
		if g, ok := ggufNames[rest]; ok {
			return fmt.Sprintf("blk.%d.%s", layer, g), true
		}
	}
	return "", false
}

// planTensors checks every tensor against the config (names, shapes, dtypes;
// nothing missing, nothing extra) and chooses each one's GGUF type.
func planTensors(cfg *model.Config, weights map[string]*safetensors.Tensor, matrix TensorType) ([]plannedTensor, error) {
	names, shapes := cfg.ParamShapes()
	var plan []plannedTensor
	for _, hf := range names {
		t, ok := weights[hf]
		if !ok {
			return nil, fmt.Errorf("missing tensor %q (expected shape %v)", hf, shapes[hf])
		}
		if !slices.Equal(t.Shape, shapes[hf]) {
			return nil, fmt.Errorf("tensor %q: expected shape %v from config.json, got %v", hf, shapes[hf], t.Shape)
		}
		switch t.DType {
		case safetensors.F32, safetensors.BF16, safetensors.F16:
		default:
			return nil, fmt.Errorf("tensor %q: dtype %s (F32, BF16, F16 only)", hf, t.DType)
		}
		name, ok := ggufName(hf)
		if !ok {
			return nil, fmt.Errorf("tensor %q has no llama.cpp qwen3 name", hf)
		}
		p := plannedTensor{info: TensorInfo{Name: name, Dims: ReverseShape(t.Shape), Type: matrix}, src: t}
		if len(t.Shape) == 1 {
			p.info.Type = F32
		} else if matrix == Q8_0 && t.Shape[len(t.Shape)-1]%q8Block != 0 {
			p.info.Type, p.fallback = F16, true
		}
		plan = append(plan, p)
	}
	for hf, t := range weights {
		if _, ok := shapes[hf]; ok {
			continue
		}
		// Tied checkpoints sometimes still store lm_head.weight; llama.cpp
		// reuses token_embd when output.weight is absent, so it is dropped.
		if hf == "lm_head.weight" && cfg.TieWordEmbeddings && slices.Equal(t.Shape, []int{cfg.VocabSize, cfg.HiddenSize}) {
			continue
		}
		return nil, fmt.Errorf("unexpected tensor %q (shape %v) for this config", hf, t.Shape)
	}
	return plan, nil
}

// readWeights reads model.safetensors, or the shards listed in
// model.safetensors.index.json.
func readWeights(dir string) (map[string]*safetensors.Tensor, error) {
	files := []string{filepath.Join(dir, "model.safetensors")}
	if _, err := os.Stat(files[0]); err != nil {
		idxPath := filepath.Join(dir, "model.safetensors.index.json")
		b, err := os.ReadFile(idxPath)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no model.safetensors nor model.safetensors.index.json", dir)
		}
		if err != nil {
			return nil, err
		}
		var idx struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(b, &idx); err != nil {
			return nil, fmt.Errorf("%s: %w", idxPath, err)
		}
		files = files[:0]
		for _, f := range idx.WeightMap {
			if p := filepath.Join(dir, f); !slices.Contains(files, p) {
				files = append(files, p)
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: empty weight_map", idxPath)
		}
	}
	all := map[string]*safetensors.Tensor{}
	for _, f := range files {
		st, err := safetensors.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for name, t := range st.Tensors {
			if _, dup := all[name]; dup {
				return nil, fmt.Errorf("%s: tensor %q appears in two shards", dir, name)
			}
			all[name] = t
		}
	}
	return all, nil
}

// writeAtomic runs write on a temporary file beside path, syncs it and
// renames it over path; on any error the temporary file is removed and path
// is left as it was.
func writeAtomic(path string, write func(*os.File) error) (err error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}
