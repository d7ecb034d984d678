package model

import (
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"
)

// NewConfig is a Qwen3 config with HF defaults for the given shape.
func NewConfig(vocab, hidden, layers, heads, kvHeads, headDim, intermediate int, tie bool) *Config {
	bos := 1
	return &Config{
		Architectures: []string{"Qwen3ForCausalLM"}, ModelType: "qwen3",
		VocabSize: vocab, HiddenSize: hidden, IntermediateSize: intermediate,
		NumHiddenLayers: layers, NumAttentionHeads: heads, NumKeyValueHeads: kvHeads, HeadDim: headDim,
		HiddenAct: "silu", MaxPositionEmbeddings: 40960, RMSNormEps: 1e-6, RopeTheta: 1e6,
		RopeScaling: []byte("null"), TieWordEmbeddings: tie, BOSTokenID: &bos, EOSTokenID: []byte("2"),
		TorchDType: "float32", InitializerRange: 0.02,
	}
}

// NewRandom builds a model with HF's initialisation: weights ~ N(0,
// initializer_range), norm weights 1, biases 0; reproducible from seed.
func NewRandom(cfg *Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5354_4152)) // "STAR"
	names, shapes := cfg.ParamShapes()
	m := &Model{Config: cfg, Names: names, Params: map[string]*tensors.Tensor{}, DType: "F32",
		Gen: &GenerationConfig{EOSTokenIDs: parseIDs(cfg.EOSTokenID)}}
	std := cfg.InitializerRange
	if std == 0 {
		std = 0.02
	}
	for _, n := range names {
		size := 1
		for _, d := range shapes[n] {
			size *= d
		}
		v := make([]float32, size)
		switch {
		case !decays(n) && !hasSuffix(n, "bias"): // norm weights
			for i := range v {
				v[i] = 1
			}
		case hasSuffix(n, "bias"):
		default:
			for i := range v {
				v[i] = float32(rng.NormFloat64() * std)
			}
		}
		m.Params[n] = tensors.FromFlatDataAndDimensions(v, shapes[n]...)
	}
	return m, nil
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// UseTokenizer makes Save copy the tokenizer and chat-template files of dir
// (a Hugging Face directory) next to the weights, as Load does for the
// directory a model came from.
func (m *Model) UseTokenizer(dir string) { m.srcDir = dir }
