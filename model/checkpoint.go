package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/star-go/star/model/safetensors"
)

// Model is a Qwen3 checkpoint in memory: its config and every parameter as a
// float32 tensor, by HF name. Compute is always float32 (bf16/f16 checkpoints
// are widened on load), like HF's reference float32 path.
type Model struct {
	Config *Config
	Gen    *GenerationConfig
	// Names is the fixed parameter order used by every graph.
	Names  []string
	Params map[string]*tensors.Tensor
	// DType is the storage dtype the checkpoint was read from (F32, BF16, F16).
	DType string

	srcDir    string // where tokenizer files are copied from on Save
	rawConfig []byte // config.json as read, written back verbatim
	engine    *Engine
	graphs    graphCache
	// decode-layout weights and the parameter tensors they were made from
	decSrc, decW []*tensors.Tensor
	// host-step weights (hostdecode.go) and the tensors they were made from
	host    *hostWeights
	hostSrc []*tensors.Tensor
}

// tokenizerFiles are copied next to a saved checkpoint when present.
var tokenizerFiles = []string{
	"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
	"special_tokens_map.json", "added_tokens.json", "chat_template.jinja",
}

// Load reads a Hugging Face Qwen3 directory: config.json, generation_config.json
// and model.safetensors or model.safetensors.index.json with its shards.
func Load(dir string) (*Model, error) {
	cfgBytes, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(cfgBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	gen, err := ReadGenerationConfig(dir, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	files, err := safetensorsFiles(dir)
	if err != nil {
		return nil, err
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
	m, err := fromSafetensors(cfg, all)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m.Gen, m.srcDir, m.rawConfig = gen, dir, cfgBytes
	return m, nil
}

// safetensorsFiles finds the weight files: a single model.safetensors, or the
// shards named by model.safetensors.index.json.
func safetensorsFiles(dir string) ([]string, error) {
	single := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(single); err == nil {
		return []string{single}, nil
	}
	idxPath := filepath.Join(dir, "model.safetensors.index.json")
	b, err := os.ReadFile(idxPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no model.safetensors nor model.safetensors.index.json", dir)
		}
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", idxPath, err)
	}
	seen := map[string]bool{}
	var files []string
	for _, f := range idx.WeightMap {
		if !seen[f] {
			seen[f] = true
			files = append(files, filepath.Join(dir, f))
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: empty weight_map", idxPath)
	}
	return files, nil
}

// fromSafetensors checks names and shapes against the config and widens to float32.
func fromSafetensors(cfg *Config, all map[string]*safetensors.Tensor) (*Model, error) {
	names, shapes := cfg.ParamShapes()
	m := &Model{Config: cfg, Names: names, Params: map[string]*tensors.Tensor{}}
	for _, name := range names {
		t, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("missing tensor %q (expected shape %v)", name, shapes[name])
		}
		if !slices.Equal(t.Shape, shapes[name]) {
			return nil, fmt.Errorf("tensor %q: expected shape %v, got %v", name, shapes[name], t.Shape)
		}
		switch t.DType {
		case safetensors.F32, safetensors.BF16, safetensors.F16:
		default:
			return nil, fmt.Errorf("tensor %q: unsupported dtype %s (F32, BF16, F16 only)", name, t.DType)
		}
		if m.DType == "" || t.DType != safetensors.F32 {
			m.DType = t.DType
		}
		vals, err := t.ToFloat32()
		if err != nil {
			return nil, err
		}
		m.Params[name] = tensors.FromFlatDataAndDimensions(vals, t.Shape...)
	}
	for name, t := range all {
		if _, ok := m.Params[name]; ok {
			continue
		}
		// Some tied checkpoints still store lm_head.weight (a copy of the
		// embedding); HF ignores it, so do we, when its shape is right.
		if name == "lm_head.weight" && cfg.TieWordEmbeddings && slices.Equal(t.Shape, []int{cfg.VocabSize, cfg.HiddenSize}) {
			continue
		}
		return nil, fmt.Errorf("unexpected tensor %q (shape %v) for this config", name, t.Shape)
	}
	return m, nil
}

// SaveOptions control Save.
type SaveOptions struct {
	// DType is F32 or BF16 (default: the dtype the model was loaded with, else F32).
	DType string
	// MaxShardBytes > 0 splits the weights into model-0000i-of-0000n.safetensors
	// shards with model.safetensors.index.json, as HF does for big models.
	MaxShardBytes int64
}

// Save writes the model to dir in the HF layout (config.json,
// generation_config.json, model.safetensors or shards + index, and the
// tokenizer files of the directory it was loaded from). Each file is written
// atomically (temporary file + rename).
func (m *Model) Save(dir string, opt SaveOptions) error {
	dtype := opt.DType
	if dtype == "" {
		dtype = m.DType
	}
	if dtype == "" || dtype == safetensors.F16 {
		dtype = safetensors.F32
	}
	if dtype != safetensors.F32 && dtype != safetensors.BF16 {
		return fmt.Errorf("save: dtype %q not supported (F32 or BF16)", dtype)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var ts []safetensors.Tensor
	for _, name := range m.Names {
		vals, err := m.Float32(name)
		if err != nil {
			return err
		}
		t, err := safetensors.FromFloat32(name, dtype, m.Params[name].Shape().Dimensions, vals)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	meta := map[string]string{"format": "pt"}
	if err := saveWeights(dir, ts, meta, opt.MaxShardBytes); err != nil {
		return err
	}
	cfgBytes := m.rawConfig
	if cfgBytes == nil || (dtype == safetensors.BF16) != (m.Config.TorchDType == "bfloat16") {
		c := *m.Config
		c.TorchDType = map[string]string{safetensors.F32: "float32", safetensors.BF16: "bfloat16"}[dtype]
		b, err := json.MarshalIndent(&c, "", "  ")
		if err != nil {
			return err
		}
		cfgBytes = append(b, '\n')
	}
	if err := safetensors.WriteAtomic(filepath.Join(dir, "config.json"), cfgBytes); err != nil {
		return err
	}
	gen := []byte(nil)
	if m.Gen != nil {
		gen = m.Gen.Raw
	}
	if gen == nil {
		g := map[string]any{"do_sample": false}
		if m.Config.BOSTokenID != nil {
			g["bos_token_id"] = *m.Config.BOSTokenID
		}
		if ids := m.EOSIDs(); len(ids) == 1 {
			g["eos_token_id"] = ids[0]
		} else if len(ids) > 1 {
			g["eos_token_id"] = ids
		}
		gen, _ = json.MarshalIndent(g, "", "  ")
	}
	if err := safetensors.WriteAtomic(filepath.Join(dir, "generation_config.json"), gen); err != nil {
		return err
	}
	if m.srcDir != "" && m.srcDir != dir {
		for _, f := range tokenizerFiles {
			b, err := os.ReadFile(filepath.Join(m.srcDir, f))
			if errors.Is(err, os.ErrNotExist) {
				continue
			} else if err != nil {
				return err
			}
			if err := safetensors.WriteAtomic(filepath.Join(dir, f), b); err != nil {
				return err
			}
		}
	}
	return nil
}

func saveWeights(dir string, ts []safetensors.Tensor, meta map[string]string, maxShard int64) error {
	var total int64
	for _, t := range ts {
		total += int64(len(t.Data))
	}
	if maxShard <= 0 || total <= maxShard {
		// A stale index would make loaders pick the shards: remove it.
		os.Remove(filepath.Join(dir, "model.safetensors.index.json"))
		return safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, meta)
	}
	var shards [][]safetensors.Tensor
	var size int64
	for _, t := range ts {
		if len(shards) == 0 || (size+int64(len(t.Data)) > maxShard && size > 0) {
			shards = append(shards, nil)
			size = 0
		}
		shards[len(shards)-1] = append(shards[len(shards)-1], t)
		size += int64(len(t.Data))
	}
	weightMap := map[string]string{}
	for i, sh := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		if err := safetensors.WriteFile(filepath.Join(dir, name), sh, meta); err != nil {
			return err
		}
		for _, t := range sh {
			weightMap[t.Name] = name
		}
	}
	idx := map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	os.Remove(filepath.Join(dir, "model.safetensors"))
	return safetensors.WriteAtomic(filepath.Join(dir, "model.safetensors.index.json"), b)
}

// Float32 copies a parameter's values to a Go slice.
func (m *Model) Float32(name string) ([]float32, error) {
	t, ok := m.Params[name]
	if !ok {
		return nil, fmt.Errorf("no parameter %q", name)
	}
	return tensors.CopyFlatData[float32](t)
}

// EOSIDs are the ids that end generation: generation_config.json's, else config.json's.
func (m *Model) EOSIDs() []int {
	if m.Gen != nil && len(m.Gen.EOSTokenIDs) > 0 {
		return m.Gen.EOSTokenIDs
	}
	return parseIDs(m.Config.EOSTokenID)
}
