package serve

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
)

// The script model is a one-layer Qwen3 with the real Qwen3 tokenizer
// whose next token depends only on the current one: attention and MLP are
// zero, each script token has a one-hot embedding, and the LM head maps it
// to its successor. After "\n" (the end of a chat generation prompt) it
// writes scriptText, a think block and a tool call, then <|im_end|>; after
// any other token all logits are equal (greedy: token 0 "!"; sampling:
// uniform random tokens).
const scriptText = `<think>ok</think><tool_call>{"arguments":{"days":3},"name":"get_weather"}</tool_call>`

// scriptChain is scriptText's token ids followed by <|im_end|>.
var scriptChain = []int{151667, 562, 151668, 151657, 4913, 16370, 22317, 13778, 788, 18, 51193, 606, 3252, 455, 69364, 9207, 151658, 151645}

const (
	newline       = 198 // "\n": a chat prompt's last token
	doubleNewline = 271 // "\n\n": ends the prompt with enable_thinking false
	imEnd         = 151645
)

// successors maps a token to the script's next token.
func successors() map[int]int {
	next := map[int]int{newline: scriptChain[0], doubleNewline: 151657}
	for i := 0; i+1 < len(scriptChain); i++ {
		next[scriptChain[i]] = scriptChain[i+1]
	}
	return next
}

var (
	scriptMu  sync.Mutex
	scriptDir string
)

// scriptModel returns the directory of the script model, made once per
// test binary (removed by TestMain).
func scriptModel(t testing.TB) string {
	t.Helper()
	scriptMu.Lock()
	defer scriptMu.Unlock()
	if scriptDir != "" {
		return scriptDir
	}
	src := fixture.Path(t, "fixtures/qwen3")
	dir, err := os.MkdirTemp("", "star-serve-script-")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeScriptModel(dir, src); err != nil {
		t.Fatal(err)
	}
	scriptDir = dir
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if scriptDir != "" {
		os.RemoveAll(scriptDir)
	}
	os.Exit(code)
}

func writeScriptModel(dir, src string) error {
	const V, H = 151936, 32
	cfg := model.NewConfig(V, H, 1, 2, 1, 16, 32, false)
	cfg.EOSTokenID = []byte("[151645, 151643]")
	cfg.MaxPositionEmbeddings = 4096
	m, err := model.NewRandom(cfg, 1)
	if err != nil {
		return err
	}
	for _, n := range m.Names {
		if !isNorm(n) {
			m.Params[n] = tensors.FromFlatDataAndDimensions(make([]float32, m.Params[n].Shape().Size()), m.Params[n].Shape().Dimensions...)
		}
	}
	embed := make([]float32, V*H)
	head := make([]float32, V*H)
	dim := 0
	for from, to := range successors() {
		embed[from*H+dim] = 1
		head[to*H+dim] = 10
		dim++
	}
	m.Params["model.embed_tokens.weight"] = tensors.FromFlatDataAndDimensions(embed, V, H)
	m.Params["lm_head.weight"] = tensors.FromFlatDataAndDimensions(head, V, H)
	if err := m.Save(dir, model.SaveOptions{}); err != nil {
		return err
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func isNorm(name string) bool { return strings.Contains(name, "norm.") }
