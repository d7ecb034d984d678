package rollout

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
	"github.com/star-go/star/tokenizer"
)

// TestEngine runs the teacher in process: a random Qwen3 with the real
// Qwen3 vocabulary (151,669 ids, so the real tokenizer and template apply)
// but a 16-wide body, decoded greedily.
func TestEngine(t *testing.T) {
	tok, err := tokenizer.Load(fixture.Path(t, "fixtures/qwen3"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.NewRandom(model.NewConfig(151669, 16, 1, 2, 1, 8, 32, true), 3)
	if err != nil {
		t.Fatal(err)
	}
	m.Gen.EOSTokenIDs = []int{151645}
	eng := &Engine{Model: m, Tokenizer: tok, Sampling: Sampling{Temperature: 0, TopP: 1, TopK: -1, MaxTokens: 5}}

	prompt := "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n"
	comps, err := eng.Generate(context.Background(), Request{Index: 0, Prompt: prompt, N: 2})
	if err != nil {
		t.Fatal(err)
	}
	gens, err := m.Generate(context.Background(), [][]int{tok.Encode(prompt)}, model.GenerateOptions{MaxNewTokens: 5})
	if err != nil {
		t.Fatal(err)
	}
	toks := gens[0].Tokens
	finish := "length"
	if gens[0].FinishReason == "eos" {
		toks, finish = toks[:len(toks)-1], "stop"
	}
	want := Completion{Text: tok.Decode(toks), FinishReason: finish}
	if len(comps) != 2 || comps[0] != want || comps[1] != want {
		t.Fatalf("completions %+v, want 2× %+v", comps, want)
	}

	// The whole command path on the engine: a random model's text is never
	// a valid turn, so the record is rejected with both completions.
	dir := t.TempDir()
	in := writeInput(t, dir, inputLines[:1])
	out, rej := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "rejects.jsonl")
	sum, err := Run(context.Background(), Config{In: in, Out: out, Rejects: rej, Template: qwen3Template(t), Gen: eng, N: 2, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sampled != 1 || sum.Completions != 2 || sum.Rejected != 1 {
		t.Fatalf("summary %+v", sum)
	}
	var e struct {
		Completions []struct{ Reason, Text string }
	}
	if err := json.Unmarshal([]byte(readLines(t, rej)[0]), &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Completions) != 2 || e.Completions[0].Text != e.Completions[1].Text || e.Completions[0].Reason == "" {
		t.Fatalf("rejected completions %+v", e.Completions)
	}
}
