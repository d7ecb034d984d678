package rollout

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/model"
	"github.com/star-go/star/serve"
	"github.com/star-go/star/tokenizer"
)

// TestAgainstStarServe runs the rollout end to end against star serve on
// loopback: a random Qwen3 with the real vocabulary, decoded greedily, must
// give the same completions through the server as in process.
func TestAgainstStarServe(t *testing.T) {
	tok, err := tokenizer.Load(fixture.Path(t, "fixtures/qwen3"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.NewRandom(model.NewConfig(151669, 16, 1, 2, 1, 8, 32, true), 11)
	if err != nil {
		t.Fatal(err)
	}
	m.Gen.EOSTokenIDs = []int{151645}
	tmpl := qwen3Template(t)
	s, err := serve.New(m, tok, tmpl, serve.Config{Name: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	greedy := Sampling{Temperature: 0, TopP: 1, TopK: -1, MaxTokens: 6}
	remote := &Endpoint{Client: &endpoint.Client{BaseURL: srv.URL + "/v1", Model: "tiny"}, Sampling: greedy}
	local := &Engine{Model: m, Tokenizer: tok, Sampling: greedy}
	prompt := "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n"
	want, err := local.Generate(context.Background(), Request{Prompt: prompt, N: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Generate(context.Background(), Request{Prompt: prompt, N: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] || got[0].Text == "" {
		t.Fatalf("star serve: %+v\nin process: %+v", got, want)
	}

	// The whole rollout, both ways: the same rejects, byte for byte (a
	// random model never writes a valid turn).
	dir := t.TempDir()
	in := writeInput(t, dir, inputLines[:3])
	rejects := map[string]string{}
	for name, g := range map[string]Generator{"remote": remote, "local": local} {
		out, rej := filepath.Join(dir, name+".jsonl"), filepath.Join(dir, name+".rejects.jsonl")
		sum, err := Run(context.Background(), Config{In: in, Out: out, Rejects: rej, Template: tmpl, Gen: g, N: 2, Concurrency: 2, Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Sampled != 3 || sum.Completions != 6 || sum.Rejected != 3 {
			t.Fatalf("%s: summary %+v", name, sum)
		}
		rejects[name] = strings.Join(readLines(t, rej), "\n")
	}
	if rejects["remote"] != rejects["local"] {
		t.Fatalf("rejects through star serve:\n%s\nin process:\n%s", rejects["remote"], rejects["local"])
	}
}
