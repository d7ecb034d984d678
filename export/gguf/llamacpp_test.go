package gguf

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
	"golang.org/x/text/unicode/norm"
)

// nodeLlamaCpp is where `make test-gguf` installs node-llama-cpp (git-ignored).
const nodeLlamaCpp = "testdata/node_modules/node-llama-cpp/package.json"

// llamaCase is one exported file and what llama.cpp must reproduce on it.
type llamaCase struct {
	name, dir, typ string
	prompts        [][]int
	// logitTol bounds |llama.cpp − star| over every log-prob of every
	// position; exact: greedy continuations must be equal.
	logitTol float64
	exact    bool
	// ref, if set, is the fixture's independent PyTorch reference (logits
	// rows and 16-token greedy continuations, one per prompt).
	ref []refSequence
}

type refSequence struct {
	IDs      []int       `json:"ids"`
	Logits   [][]float64 `json:"logits"`
	Greedy16 []int       `json:"greedy16"`
}

// TestLlamaCpp loads exported files in llama.cpp (node-llama-cpp 3.21.1,
// prebuilt CPU binaries) and checks that it computes what star computes:
// F32 files give the same greedy continuation and log-probs within 1e-4 of
// star's (and of the fixtures' PyTorch reference), the half and Q8_0 files
// agree within their precision, and llama.cpp's tokenizer, built from the
// GGUF metadata alone, encodes the fixture strings exactly like Qwen3's.
//
// It runs when STAR_GGUF_LLAMA_CPP is set, as `make test-gguf` does after
// installing node-llama-cpp into testdata/node_modules (about 30 s on two
// cores); then a missing node or package is a failure, not a skip.
func TestLlamaCpp(t *testing.T) {
	if os.Getenv("STAR_GGUF_LLAMA_CPP") == "" {
		t.Skip("set STAR_GGUF_LLAMA_CPP=1 after installing node-llama-cpp, or run make test-gguf")
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(nodeLlamaCpp)
	}
	if err != nil {
		t.Fatalf("node-llama-cpp is not usable: %v (make test-gguf installs it)", err)
	}

	var refs map[string]struct {
		Sequences []refSequence `json:"sequences"`
	}
	readJSON(t, fixture.Path(t, "fixtures/tiny-qwen3/reference.json"), &refs)

	tmp := t.TempDir()
	var cases []llamaCase
	for _, v := range []string{"untied-bf16", "tied-f32"} {
		dir := copyDir(t, fixture.Path(t, "fixtures/tiny-qwen3/"+v))
		addSmallTokenizer(t, dir)
		seqs := refs[v].Sequences
		var prompts [][]int
		for _, s := range seqs {
			prompts = append(prompts, s.IDs)
		}
		cases = append(cases, llamaCase{name: v + "-f32", dir: dir, typ: "f32", prompts: prompts, logitTol: 1e-4, exact: true, ref: seqs})
	}
	// The other types on the small fixtures (a 151,936-row BF16 output layer
	// takes llama.cpp's CPU build tens of seconds). The untied fixture's
	// weights are BF16, so its BF16 file is exact; llama.cpp then rounds
	// activations to BF16 (F16, Q8_0) in its products, hence the tolerances.
	cases = append(cases,
		llamaCase{name: "untied-bf16-bf16", dir: cases[0].dir, typ: "bf16", prompts: cases[0].prompts, logitTol: 0.3},
		llamaCase{name: "untied-bf16-q8_0", dir: cases[0].dir, typ: "q8_0", prompts: cases[0].prompts, logitTol: 0.6},
		llamaCase{name: "tied-f32-f16", dir: cases[1].dir, typ: "f16", prompts: cases[1].prompts, logitTol: 0.1},
	)

	// A Qwen3 with the real tokenizer: vocab 151,936, head_dim 32 ≠ hidden/heads.
	cfg := model.NewConfig(151936, 64, 2, 4, 2, 32, 128, false)
	cfg.InitializerRange = 0.1 // peakier than HF's 0.02, so greedy choices are far from ties
	bos := 151643
	cfg.BOSTokenID, cfg.EOSTokenID = &bos, json.RawMessage("151645")
	m, err := model.NewRandom(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	qwenDir := filepath.Join(tmp, "qwen3-random")
	if err := m.Save(qwenDir, model.SaveOptions{DType: "F32"}); err != nil {
		t.Fatal(err)
	}
	addQwenTokenizer(t, qwenDir)
	qwenPrompts := [][]int{
		{9707, 11, 847, 5562, 374, 18838},                                 // "Hello, my dog is cute"
		{151644, 872, 198, 6023, 151645, 198, 151644, 77091, 198, 151667}, // a chat turn, then <think>
	}
	cases = append(cases, llamaCase{name: "qwen3-f32", dir: qwenDir, typ: "f32", prompts: qwenPrompts, logitTol: 1e-4, exact: true})

	var fixtures []struct {
		Text string `json:"text"`
		IDs  []int  `json:"ids"`
	}
	readJSONL(t, fixture.Path(t, "fixtures/qwen3/tokenize.jsonl"), &fixtures)
	// llama.cpp does not apply tokenizer.json's NFC normalizer (GGUF has no
	// field for it), so the texts go in NFC-normalized, as Qwen3 sees them.
	var texts []string
	for _, f := range fixtures {
		texts = append(texts, norm.NFC.String(f.Text))
	}

	type specModel struct {
		Path        string  `json:"path"`
		Prompts     [][]int `json:"prompts"`
		NewTokens   int     `json:"new_tokens"`
		LogprobsOut string  `json:"logprobs_out"`
	}
	spec := struct {
		Models   []specModel `json:"models"`
		Tokenize struct {
			Model string   `json:"model"`
			Texts []string `json:"texts"`
		} `json:"tokenize"`
	}{}
	for _, c := range cases {
		path := filepath.Join(tmp, c.name+".gguf")
		if _, err := Export(context.Background(), c.dir, path, Options{Type: c.typ}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		spec.Models = append(spec.Models, specModel{path, c.prompts, 16, filepath.Join(tmp, c.name+".logprobs")})
	}
	spec.Tokenize.Model = filepath.Join(tmp, "qwen3-f32.gguf")
	spec.Tokenize.Texts = texts
	specPath := filepath.Join(tmp, "spec.json")
	writeJSON(t, specPath, spec)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "testdata/check.mjs", specPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/check.mjs: %v\n%s", err, stderr.String())
	}
	t.Logf("llama.cpp ran %d files in %.1fs:\n%s", len(cases), time.Since(start).Seconds(), stderr.String())
	var res struct {
		Models []struct {
			Path   string  `json:"path"`
			NVocab int     `json:"n_vocab"`
			Greedy [][]int `json:"greedy"`
		} `json:"models"`
		Tokenize struct {
			IDs     [][]int  `json:"ids"`
			Text    []string `json:"text"`
			Special struct {
				EOS        *int  `json:"eos"`
				EOT        *int  `json:"eot"`
				NL         *int  `json:"nl"`
				PrependBOS bool  `json:"prepend_bos"`
				EOG        []int `json:"eog"`
				Control    []int `json:"control"`
			} `json:"special"`
		} `json:"tokenize"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output: %v\n%s", err, stderr.String())
	}
	if len(res.Models) != len(cases) {
		t.Fatalf("node returned %d models, want %d", len(res.Models), len(cases))
	}

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := res.Models[i]
			m, err := model.Load(c.dir)
			if err != nil {
				t.Fatal(err)
			}
			if got.NVocab != m.Config.VocabSize {
				t.Fatalf("llama.cpp gave %d probabilities per position, want the whole vocabulary %d", got.NVocab, m.Config.VocabSize)
			}
			lp := readFloat32s(t, spec.Models[i].LogprobsOut)
			row := 0
			var worst, worstRef float64
			for p, prompt := range c.prompts {
				ours, err := m.Logits([][]int{prompt})
				if err != nil {
					t.Fatal(err)
				}
				for pos := range prompt {
					theirs := lp[row*got.NVocab : (row+1)*got.NVocab]
					row++
					worst = max(worst, maxLogSoftmaxDiff(t, theirs, ours[0][pos]))
					if c.ref != nil {
						worstRef = max(worstRef, maxLogSoftmaxDiff(t, theirs, c.ref[p].Logits[pos]))
					}
				}
				gens, err := m.Generate(context.Background(), [][]int{prompt}, model.GenerateOptions{MaxNewTokens: 16, EOS: []int{}})
				if err != nil {
					t.Fatal(err)
				}
				if c.exact {
					t.Logf("prompt %d: greedy %v", p, got.Greedy[p])
				}
				if c.exact && !slices.Equal(got.Greedy[p], gens[0].Tokens) {
					t.Errorf("prompt %d: llama.cpp greedy %v, star %v", p, got.Greedy[p], gens[0].Tokens)
				}
				if c.ref != nil && !slices.Equal(got.Greedy[p], c.ref[p].Greedy16) {
					t.Errorf("prompt %d: llama.cpp greedy %v, PyTorch reference %v", p, got.Greedy[p], c.ref[p].Greedy16)
				}
			}
			t.Logf("max |log-prob difference| llama.cpp vs star: %.2g over %d positions × %d tokens", worst, row, got.NVocab)
			if worst > c.logitTol {
				t.Errorf("llama.cpp log-probs differ from star's by %.3g > %g", worst, c.logitTol)
			}
			if c.ref != nil {
				t.Logf("max |log-prob difference| llama.cpp vs PyTorch reference: %.2g", worstRef)
				if worstRef > c.logitTol {
					t.Errorf("llama.cpp log-probs differ from the PyTorch reference by %.3g > %g", worstRef, c.logitTol)
				}
			}
		})
	}

	t.Run("tokenizer", func(t *testing.T) {
		// llama.cpp's reading of the special-token metadata: <|im_end|> ends
		// turns and generation, no BOS is prepended, and of the added tokens
		// only the special ones are control tokens (<tool_call>, <think> stay
		// text, so servers can parse them out of the output).
		sp := res.Tokenize.Special
		intIs := func(p *int, v int) bool { return p != nil && *p == v }
		if !intIs(sp.EOS, 151645) || !intIs(sp.EOT, 151645) || !intIs(sp.NL, 198) || sp.PrependBOS ||
			!slices.Equal(sp.EOG, []int{151643, 151645}) || !slices.Equal(sp.Control, []int{151643, 151644, 151645}) {
			t.Errorf("llama.cpp special tokens: %+v", sp)
		}
		if len(res.Tokenize.IDs) != len(fixtures) {
			t.Fatalf("%d tokenizations, want %d", len(res.Tokenize.IDs), len(fixtures))
		}
		for i, f := range fixtures {
			if !slices.Equal(res.Tokenize.IDs[i], f.IDs) && !(len(f.IDs) == 0 && len(res.Tokenize.IDs[i]) == 0) {
				t.Errorf("%q: llama.cpp %v, Qwen3 %v", f.Text, res.Tokenize.IDs[i], f.IDs)
			}
			if res.Tokenize.Text[i] != texts[i] {
				t.Errorf("%q: llama.cpp decodes its ids back to %q", f.Text, res.Tokenize.Text[i])
			}
		}
	})
}

// maxLogSoftmaxDiff compares llama.cpp's log-probs with log-softmax(logits).
// Node-llama-cpp exposes probabilities, not logits, so logits are compared
// up to the one constant per row that softmax drops.
func maxLogSoftmaxDiff[F float32 | float64](t *testing.T, theirs []float32, logits []F) float64 {
	t.Helper()
	if len(theirs) != len(logits) {
		t.Fatalf("%d log-probs, %d logits", len(theirs), len(logits))
	}
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = max(mx, float64(l))
	}
	var sum float64
	for _, l := range logits {
		sum += math.Exp(float64(l) - mx)
	}
	lse := mx + math.Log(sum)
	var worst float64
	for i, l := range logits {
		if math.IsInf(float64(theirs[i]), -1) {
			t.Fatalf("token %d: llama.cpp probability 0 (log-prob %g here)", i, float64(l)-lse)
		}
		worst = max(worst, math.Abs(float64(theirs[i])-(float64(l)-lse)))
	}
	return worst
}

func readFloat32s(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readJSONL appends one element per line of path to the slice *dst.
func readJSONL[T any](t *testing.T, path string, dst *[]T) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		*dst = append(*dst, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
