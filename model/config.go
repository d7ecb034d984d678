// Package model is STAR's numerical core: the Qwen3 architecture, checkpoint
// loading and saving, generation, log-probs, the training losses (CE, CKD,
// GRPO), AdamW and the learning-rate schedule.
//
// It is the only package that imports GoMLX: every graph (forward, backward,
// optimizer, sampling) is built here, so an engine upgrade touches one place.
package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Config mirrors a Hugging Face Qwen3 config.json. Unknown fields are kept in
// Extra so a load/save round trip does not lose them.
type Config struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	VocabSize             int             `json:"vocab_size"`
	HiddenSize            int             `json:"hidden_size"`
	IntermediateSize      int             `json:"intermediate_size"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumKeyValueHeads      int             `json:"num_key_value_heads"`
	HeadDim               int             `json:"head_dim"`
	HiddenAct             string          `json:"hidden_act"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	RMSNormEps            float64         `json:"rms_norm_eps"`
	RopeTheta             float64         `json:"rope_theta"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	TieWordEmbeddings     bool            `json:"tie_word_embeddings"`
	AttentionBias         bool            `json:"attention_bias"`
	AttentionDropout      float64         `json:"attention_dropout"`
	UseSlidingWindow      bool            `json:"use_sliding_window"`
	SlidingWindow         *int            `json:"sliding_window"`
	MaxWindowLayers       *int            `json:"max_window_layers,omitempty"`
	BOSTokenID            *int            `json:"bos_token_id,omitempty"`
	EOSTokenID            json.RawMessage `json:"eos_token_id,omitempty"`
	TorchDType            string          `json:"torch_dtype,omitempty"`
	InitializerRange      float64         `json:"initializer_range"`
	UseCache              *bool           `json:"use_cache,omitempty"`
	TransformersVersion   string          `json:"transformers_version,omitempty"`
}

// ReadConfig parses dir/config.json and validates it.
func ReadConfig(dir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	return ParseConfig(b)
}

// ParseConfig parses and validates a config.json body.
func ParseConfig(b []byte) (*Config, error) {
	c := &Config{RopeTheta: 1e6, RMSNormEps: 1e-6, HiddenAct: "silu"}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if c.HeadDim == 0 && c.NumAttentionHeads > 0 {
		// Older configs omit head_dim; HF then uses hidden/heads.
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	if c.NumKeyValueHeads == 0 {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	return c, c.Validate()
}

// Validate checks that this is a Qwen3 model this package can run.
func (c *Config) Validate() error {
	supported := c.ModelType == "qwen3"
	for _, a := range c.Architectures {
		if a != "Qwen3ForCausalLM" {
			supported = false
		}
	}
	if !supported {
		return fmt.Errorf("config.json: unsupported architecture %v (model_type %q): only Qwen3ForCausalLM (qwen3) is supported",
			c.Architectures, c.ModelType)
	}
	switch {
	case c.VocabSize <= 0 || c.HiddenSize <= 0 || c.IntermediateSize <= 0 || c.NumHiddenLayers <= 0:
		return fmt.Errorf("config.json: vocab_size, hidden_size, intermediate_size and num_hidden_layers must be positive")
	case c.NumAttentionHeads <= 0 || c.NumKeyValueHeads <= 0 || c.HeadDim <= 0 || c.HeadDim%2 != 0:
		return fmt.Errorf("config.json: heads (%d), kv heads (%d) must be positive and head_dim (%d) positive and even",
			c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim)
	case c.NumAttentionHeads%c.NumKeyValueHeads != 0:
		return fmt.Errorf("config.json: num_attention_heads %d is not a multiple of num_key_value_heads %d",
			c.NumAttentionHeads, c.NumKeyValueHeads)
	case c.HiddenAct != "silu":
		return fmt.Errorf("config.json: hidden_act %q not supported (silu only)", c.HiddenAct)
	case len(c.RopeScaling) > 0 && string(c.RopeScaling) != "null":
		return fmt.Errorf("config.json: rope_scaling %s not supported", c.RopeScaling)
	case c.UseSlidingWindow:
		return fmt.Errorf("config.json: use_sliding_window=true not supported")
	}
	return nil
}

// EOSIDs returns eos_token_id as a list (HF allows an int or a list).
func parseIDs(raw json.RawMessage) []int {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var one int
	if json.Unmarshal(raw, &one) == nil {
		return []int{one}
	}
	var many []int
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

// GenerationConfig is the part of generation_config.json generation uses.
type GenerationConfig struct {
	EOSTokenIDs []int
	Raw         []byte // the file as read, written back verbatim on save
}

// ReadGenerationConfig reads dir/generation_config.json; a missing file is
// not an error (EOS then comes from config.json).
func ReadGenerationConfig(dir string, c *Config) (*GenerationConfig, error) {
	g := &GenerationConfig{}
	b, err := os.ReadFile(filepath.Join(dir, "generation_config.json"))
	if err == nil {
		var v struct {
			EOS json.RawMessage `json:"eos_token_id"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("generation_config.json: %w", err)
		}
		g.Raw = b
		g.EOSTokenIDs = parseIDs(v.EOS)
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	if len(g.EOSTokenIDs) == 0 && c != nil {
		g.EOSTokenIDs = parseIDs(c.EOSTokenID)
	}
	return g, nil
}

// ParamShapes lists every tensor of the model by its HF name with its shape,
// in a fixed order (embedding, layers in order, final norm, lm_head).
func (c *Config) ParamShapes() ([]string, map[string][]int) {
	H, D, V, I := c.HiddenSize, c.HeadDim, c.VocabSize, c.IntermediateSize
	q, kv := c.NumAttentionHeads*D, c.NumKeyValueHeads*D
	var names []string
	shapes := map[string][]int{}
	add := func(name string, shape ...int) {
		names = append(names, name)
		shapes[name] = shape
	}
	add("model.embed_tokens.weight", V, H)
	for l := range c.NumHiddenLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", H)
		add(p+"self_attn.q_proj.weight", q, H)
		add(p+"self_attn.k_proj.weight", kv, H)
		add(p+"self_attn.v_proj.weight", kv, H)
		add(p+"self_attn.o_proj.weight", H, q)
		if c.AttentionBias {
			add(p+"self_attn.q_proj.bias", q)
			add(p+"self_attn.k_proj.bias", kv)
			add(p+"self_attn.v_proj.bias", kv)
			add(p+"self_attn.o_proj.bias", H)
		}
		add(p+"self_attn.q_norm.weight", D)
		add(p+"self_attn.k_norm.weight", D)
		add(p+"post_attention_layernorm.weight", H)
		add(p+"mlp.gate_proj.weight", I, H)
		add(p+"mlp.up_proj.weight", I, H)
		add(p+"mlp.down_proj.weight", H, I)
	}
	add("model.norm.weight", H)
	if !c.TieWordEmbeddings {
		add("lm_head.weight", V, H)
	}
	return names, shapes
}

// NumParams counts the parameters (a tied lm_head counted once).
func (c *Config) NumParams() int64 {
	names, shapes := c.ParamShapes()
	var n int64
	for _, name := range names {
		p := int64(1)
		for _, d := range shapes[name] {
			p *= int64(d)
		}
		n += p
	}
	return n
}
