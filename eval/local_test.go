package eval_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/eval"
	"github.com/star-go/star/eval/acebench"
	"github.com/star-go/star/eval/bfcl"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
	"github.com/star-go/star/serve"
	"github.com/star-go/star/tokenizer"
)

// TestLocalModelRun runs both benchmarks end to end in-process on a tiny
// random Qwen3 whose tokenizer is the real Qwen3 one (its vocabulary covers
// every id the tokenizer makes): prompts are tokenized, decoded greedily in
// batches, written, resumed and scored.
func TestLocalModelRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a model")
	}
	tokDir := fixture.Path(t, "fixtures/qwen3")
	dir := t.TempDir()
	cfg := model.NewConfig(151936, 16, 1, 2, 1, 8, 32, true)
	m, err := model.NewRandom(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	m.UseTokenizer(tokDir)
	if err := m.Save(dir, model.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	m, err = model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := chat.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	gen := &eval.Local{Model: m, Tokenizer: tok, Template: tmpl, BatchSize: 2}

	ds, err := bfcl.Load(fixture.Path(t, "fixtures/bfcl-sample"), []string{"simple"}, true)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := bfcl.Jobs(ds, 3, func(s string) int { return len(tok.Encode(s)) }, m.Config.MaxPositionEmbeddings)
	if err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		if jobs[i].MaxTokens != bfcl.MaxTokens(jobs[i].Tokens, 40960) || jobs[i].Tokens == 0 {
			t.Fatalf("budget %d for %d prompt tokens", jobs[i].MaxTokens, jobs[i].Tokens)
		}
		jobs[i].MaxTokens = 3 // a random model would use its whole budget
	}
	out := t.TempDir()
	responses := filepath.Join(out, "responses.jsonl")
	if err := eval.Run(context.Background(), jobs[:2], gen, eval.RunOptions{Path: responses, Row: bfcl.Row}); err != nil {
		t.Fatal(err)
	}
	if err := eval.Run(context.Background(), jobs, gen, eval.RunOptions{Path: responses, Resume: true, Row: bfcl.Row}); err != nil {
		t.Fatal(err)
	}
	rows, err := eval.ReadResponses(responses, func(string) bool { return true })
	if err != nil || len(rows) != 3 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	// Batched greedy decoding must give what decoding one prompt alone does.
	ids, _ := gen.PromptIDs(jobs[2])
	alone, err := m.Generate(context.Background(), [][]int{ids}, model.GenerateOptions{MaxNewTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := tok.DecodeSkipSpecial(alone[0].Tokens); rows[2].Result != want {
		t.Errorf("row 3 %q, alone %q", rows[2].Result, want)
	}
	s, err := bfcl.ScoreFiles(fixture.Path(t, "fixtures/bfcl-sample"), []string{"simple"}, responses, out)
	if err != nil || s.Category["simple"].Total != 3 {
		t.Fatalf("score: %v %+v", err, s)
	}

	// The same model behind `star serve`, through the endpoint client: the
	// same greedy answers.
	srv, err := serve.New(m, tok, tmpl, serve.Config{Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	viaServe := filepath.Join(t.TempDir(), "responses.jsonl")
	egen := &eval.Endpoint{Client: &endpoint.Client{BaseURL: hs.URL, Model: "tiny", Timeout: time.Minute}, Concurrency: 2}
	if err := eval.Run(context.Background(), jobs, egen, eval.RunOptions{Path: viaServe, Row: bfcl.Row}); err != nil {
		t.Fatal(err)
	}
	served, err := eval.ReadResponses(viaServe, func(string) bool { return true })
	if err != nil || len(served) != 3 {
		t.Fatalf("%d rows via serve, %v", len(served), err)
	}
	local := map[string]any{}
	nonEmpty := 0
	for _, r := range rows {
		local[r.ID] = r.Result
		if r.Result != "" {
			nonEmpty++
		}
	}
	if nonEmpty == 0 {
		t.Errorf("every in-process answer is empty: nothing compared")
	}
	for _, r := range served {
		if r.Result != local[r.ID] {
			t.Errorf("%s: served %q, in-process %q", r.ID, r.Result, local[r.ID])
		}
	}

	ads, err := acebench.Load("acebench/testdata/data", []string{"normal_atom_bool"}, true)
	if err != nil {
		t.Fatal(err)
	}
	ajobs := acebench.Jobs(ads, 2)
	for i := range ajobs {
		ajobs[i].MaxTokens = 2
	}
	aout := filepath.Join(t.TempDir(), "responses.jsonl")
	if err := eval.Run(context.Background(), ajobs, gen, eval.RunOptions{Path: aout, Row: eval.Row}); err != nil {
		t.Fatal(err)
	}
	if rows, err := eval.ReadResponses(aout, func(string) bool { return true }); err != nil || len(rows) != 2 {
		t.Fatalf("acebench rows %d, %v", len(rows), err)
	}
}
