package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/endpoint"
	"github.com/star-go/star/internal/fixture"
)

const weatherTool = `{"name": "get_weather", "description": "Weather now", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}, "required": ["city"]}}`

// XLAM's flat layout: the parameter names are the keys of parameters.
const flatTool = `{"name": "search", "description": "Search", "parameters": {"query": {"type": "str", "description": "q"}, "limit": {"type": "int, optional", "default": 5}}}`

// The input: one record per scripted behaviour.
var inputLines = []string{
	// a: every kind of completion
	`{"id": "a", "messages": [{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}], "tools": [` + weatherTool + `]}`,
	// b: the server fails with a 500 first
	`{"id": "b", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Rome?"}, {"role": "assistant", "content": "Sunny."}], "tools": [` + weatherTool + `], "extra": 1.0}`,
	// c: the server answers 429 with Retry-After first; flat XLAM tool
	`{"id": 7, "messages": [{"role": "user", "content": "Find Oslo"}, {"role": "assistant", "content": "x"}], "tools": [` + flatTool + `]}`,
	// d: the last message is not an assistant turn: passes through
	`{"id": "d", "messages": [{"role": "user", "content": "Hi"}], "tools": []}`,
	// e: no valid completion
	`{"id": "e", "messages": [{"role": "user", "content": "Weather in Lima?"}, {"role": "assistant", "content": "?"}], "tools": [` + weatherTool + `]}`,
	// f: not a record
	`{"id": "f", "messages": []}`,
}

func call(name, args string) string {
	return "<tool_call>\n{\"name\": \"" + name + "\", \"arguments\": " + args + "}\n</tool_call>"
}

type comp struct{ text, finish string }

// completions the fake teacher returns for each prompt (keyed by a word of
// its last user message), in choice order.
var scripted = map[string][]comp{
	"Paris": {
		{"<think>\nNeed the weather.\n</think>\n\n" + call("get_weather", `{"city": "Paris"}`), "stop"},                                                 // kept
		{"<think>\nNeed the weather.\n</think>\n\n" + call("get_weather", `{"city": "Paris"}`), "stop"},                                                 // duplicate
		{"<think>\nNeed the weather.\n</think>\n\n" + call("get_forecast", `{"city": "Paris"}`), "stop"},                                                // unknown tool
		{"<think>\nNeed the weather.\n</think>\n\n" + call("get_weather", `{"town": "Paris"}`), "stop"},                                                 // unknown argument
		{"<think>\nNeed the weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}\n</tool_call>", "stop"}, // bad JSON
		{call("get_weather", `{"city": "Paris"}`), "stop"},                                                                                              // no think block
		{"I should call it.\n</think>\n\n" + call("get_weather", `{"city": "Paris", "unit": "C"}`) + "<|im_end|>", "stop"},                              // opening tag missing: kept
		{"<think>\nMaybe ask.\n</think>\n\nWhich Paris, France or Texas?", "stop"},                                                                      // text reply: kept
	},
	"Rome": {
		{"<think>\nEasy.\n</think>\n\nSunny, 25°C.", "stop"},
		{"<think>\nEasy.\n</think>\n\nSunny, 25°C.", "stop"},
	},
	"Oslo": {
		{"<think>\nsearch\n</think>\n\n" + call("search", `{"query": "Oslo", "limit": 1.0}`) + "\n" + call("search", `{"query": "Oslo"}`), "stop"},
		{"<think>\nsearch\n</think>\n\n" + call("search", `{"query": "Oslo", "type": "city"}`), "stop"},
	},
	"Lima": {
		{"<think>\nhm\n</think>\n\nIt is", "length"},
		{"<think>a</think><think>b</think>two blocks", "stop"},
	},
}

// fakeTeacher is a scripted /v1/completions server.
type fakeTeacher struct {
	t        *testing.T
	mu       sync.Mutex
	requests map[string]int // by prompt key
	failures map[string]int // scripted failures still to come: 500 or 429
	status   map[string]int
}

func (f *fakeTeacher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req endpoint.CompletionRequest
	if r.URL.Path != "/v1/completions" || json.NewDecoder(r.Body).Decode(&req) != nil {
		w.WriteHeader(400)
		io.WriteString(w, `{"error": {"message": "bad request", "type": "invalid_request_error"}}`)
		return
	}
	prompt, _ := req.Prompt.(string)
	key := ""
	for k := range scripted {
		if strings.Contains(prompt, k) {
			key = k
		}
	}
	f.mu.Lock()
	f.requests[key]++
	fail := f.failures[key] > 0
	if fail {
		f.failures[key]--
	}
	f.mu.Unlock()
	switch {
	case fail && f.status[key] == 429:
		w.Header().Set("Retry-After", "0.05")
		w.WriteHeader(429)
		io.WriteString(w, `{"error": {"message": "queue full", "type": "rate_limit_exceeded"}}`)
		return
	case fail:
		w.WriteHeader(f.status[key])
		io.WriteString(w, `{"error": {"message": "engine died", "type": "server_error"}}`)
		return
	case key == "":
		w.WriteHeader(400)
		io.WriteString(w, `{"error": {"message": "unknown prompt", "type": "invalid_request_error"}}`)
		return
	}
	// The request is the one §5 prescribes.
	if req.Model != "teacher" || *req.Temperature != 1 || *req.TopP != 1 || *req.MaxTokens != 2048 || req.TopK != nil ||
		!strings.HasSuffix(prompt, "<|im_end|>\n<|im_start|>assistant\n") || strings.HasSuffix(prompt, "</think>\n\n") {
		f.t.Errorf("request for %s: %+v", key, req)
	}
	cs := scripted[key]
	if req.N != len(cs) {
		// Scripts shorter than n repeat their last completion.
		for len(cs) < req.N {
			cs = append(cs, cs[len(cs)-1])
		}
		cs = cs[:req.N]
	}
	resp := endpoint.CompletionResponse{ID: "cmpl", Object: "text_completion", Model: "teacher"}
	// Choices come back out of order, as a server may send them.
	for i := len(cs) - 1; i >= 0; i-- {
		resp.Choices = append(resp.Choices, endpoint.CompletionChoice{Index: i, Text: cs[i].text, FinishReason: endpoint.Ptr(cs[i].finish)})
	}
	json.NewEncoder(w).Encode(resp)
}

func newFake(t *testing.T) (*fakeTeacher, *httptest.Server) {
	f := &fakeTeacher{t: t, requests: map[string]int{},
		failures: map[string]int{"Rome": 1, "Oslo": 1}, status: map[string]int{"Rome": 500, "Oslo": 429}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func qwen3Template(t testing.TB) *chat.Template {
	tmpl, err := chat.Load(fixture.Path(t, "fixtures/qwen3"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func writeInput(t testing.TB, dir string, lines []string) string {
	p := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func asst(content, calls, reasoning string) string {
	if calls == "" {
		return `{"role": "assistant", "content": ` + content + `, "reasoning_content": "` + reasoning + `"}`
	}
	return `{"role": "assistant", "content": ` + content + `, "tool_calls": [` + calls + `], "reasoning_content": "` + reasoning + `"}`
}

// expectedOut is what §5 prescribes for inputLines with the scripted
// completions, written out by hand: input order, then completion order; one
// record per unique valid completion; the pass-through record as it came.
var expectedOut = []string{
	`{"id": "a", "messages": [{"role": "user", "content": "Weather in Paris?"}, ` +
		asst("null", `{"name": "get_weather", "arguments": {"city": "Paris"}}`, "Need the weather.") + `], "tools": [` + weatherTool + `]}`,
	`{"id": "a", "messages": [{"role": "user", "content": "Weather in Paris?"}, ` +
		asst("null", `{"name": "get_weather", "arguments": {"city": "Paris", "unit": "C"}}`, "I should call it.") + `], "tools": [` + weatherTool + `]}`,
	`{"id": "a", "messages": [{"role": "user", "content": "Weather in Paris?"}, ` +
		asst(`"Which Paris, France or Texas?"`, "", "Maybe ask.") + `], "tools": [` + weatherTool + `]}`,
	`{"id": "b", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Rome?"}, ` +
		asst(`"Sunny, 25°C."`, "", "Easy.") + `], "tools": [` + weatherTool + `], "extra": 1.0}`,
	`{"id": 7, "messages": [{"role": "user", "content": "Find Oslo"}, ` +
		asst("null", `{"name": "search", "arguments": {"query": "Oslo", "limit": 1.0}}, {"name": "search", "arguments": {"query": "Oslo"}}`, "search") +
		`], "tools": [` + flatTool + `]}`,
	`{"id": "d", "messages": [{"role": "user", "content": "Hi"}], "tools": []}`,
}

func runFake(t *testing.T, srvURL, in, out, rejects string, resume bool) *Summary {
	t.Helper()
	client := &endpoint.Client{BaseURL: srvURL, Model: "teacher", Concurrency: 4, Backoff: time.Millisecond}
	sum, err := Run(context.Background(), Config{
		In: in, Out: out, Rejects: rejects, Template: qwen3Template(t), N: 8, Concurrency: 3, Resume: resume,
		Gen:      &Endpoint{Client: client, Sampling: Sampling{Temperature: 1, TopP: 1, TopK: -1, MaxTokens: 2048}},
		Progress: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func readLines(t *testing.T, p string) []string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestRolloutAgainstFakeServer(t *testing.T) {
	f, srv := newFake(t)
	dir := t.TempDir()
	in := writeInput(t, dir, inputLines)
	out, rej := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "rejects.jsonl")
	sum := runFake(t, srv.URL, in, out, rej, false)

	got := readLines(t, out)
	if strings.Join(got, "\n") != strings.Join(expectedOut, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(expectedOut, "\n"))
	}
	// Retries: Rome got a 500, Oslo a 429, each asked again once.
	if f.requests["Rome"] != 2 || f.requests["Oslo"] != 2 || f.requests["Paris"] != 1 || f.requests["Lima"] != 1 {
		t.Errorf("requests %v", f.requests)
	}

	// Rejects: e with each completion's reason, f with its field.
	rl := readLines(t, rej)
	if len(rl) != 2 {
		t.Fatalf("rejects:\n%s", strings.Join(rl, "\n"))
	}
	var e struct {
		Line        int
		ID          string
		Field       string
		Reason      string
		Completions []struct{ Reason, Text string }
	}
	if err := json.Unmarshal([]byte(rl[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.ID != "e" || e.Line != 5 || e.Field != "completions" || len(e.Completions) != 8 ||
		e.Completions[0].Reason != "truncated at max tokens" || e.Completions[1].Reason != "2 <think></think> blocks, want 1" ||
		e.Completions[1].Text != "<think>a</think><think>b</think>two blocks" ||
		e.Reason != "no valid completion of 8: 1× truncated at max tokens; 7× 2 <think></think> blocks, want 1" {
		t.Errorf("rejects[0] = %s", rl[0])
	}
	if !strings.Contains(rl[1], `"line": 6, "id": "f", "field": "messages", "reason": "is empty"`) {
		t.Errorf("rejects[1] = %s", rl[1])
	}

	// The summary counts every completion by what became of it.
	want := Summary{Records: 6, Sampled: 4, Accepted: 3, PassThrough: 1, Rejected: 2, Written: 6,
		Completions: 32, Kept: 5, Duplicates: 1 + 7}
	s := *sum
	s.Discarded, s.RejectReasons = nil, nil
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("summary %+v\nwant    %+v", s, want)
	}
	wantDiscards := map[string]int{
		`tool call #: unknown tool "…"`:                                                           1,
		`tool call #: "…" has no parameter "…"`:                                                   1 + 7, // Paris "town", Oslo "type" (×7)
		"tool call #: not JSON: invalid JSON at byte #: unexpected end of input inside an object": 1,
		"# <think></think> blocks, want #":                                                        1 + 7,
		"truncated at max tokens":                                                                 1,
	}
	if fmt.Sprint(sum.Discarded) != fmt.Sprint(wantDiscards) {
		t.Errorf("discarded %v\nwant      %v", sum.Discarded, wantDiscards)
	}
}

func TestResume(t *testing.T) {
	f, srv := newFake(t)
	dir := t.TempDir()
	in := writeInput(t, dir, inputLines)
	out, rej := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "rejects.jsonl")
	// A run killed while writing b: a is complete, b torn.
	torn := strings.Join(expectedOut[:3], "\n") + "\n" + expectedOut[3][:40]
	if err := os.WriteFile(out, []byte(torn), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without --resume an existing output is not overwritten.
	client := &endpoint.Client{BaseURL: srv.URL, Model: "teacher"}
	_, err := Run(context.Background(), Config{In: in, Out: out, Template: qwen3Template(t), Gen: &Endpoint{Client: client}, Progress: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("run over an existing output: %v", err)
	}
	sum := runFake(t, srv.URL, in, out, rej, true)
	if got := readLines(t, out); strings.Join(got, "\n") != strings.Join(expectedOut, "\n") {
		t.Errorf("resumed output:\n%s", strings.Join(got, "\n"))
	}
	if f.requests["Paris"] != 0 || sum.Skipped != 1 || sum.Records != 6 {
		t.Errorf("requests %v, summary %+v", f.requests, sum)
	}
	// Resuming a finished run does nothing: the rejected records are not retried either.
	sum = runFake(t, srv.URL, in, out, rej, true)
	if sum.Skipped != 6 || sum.Written != 0 || f.requests["Lima"] != 1 {
		t.Errorf("second resume: requests %v, summary %+v", f.requests, sum)
	}
	if got := readLines(t, out); len(got) != len(expectedOut) {
		t.Errorf("output grew to %d lines", len(got))
	}
	if got := readLines(t, rej); len(got) != 2 {
		t.Errorf("rejects grew to %d lines", len(got))
	}
}

// blocking answers from the script but waits for cancellation on Rome.
type blocking struct {
	reached chan struct{}
}

func (b *blocking) Generate(ctx context.Context, r Request) ([]Completion, error) {
	for k, cs := range scripted {
		if !strings.Contains(r.Prompt, k) {
			continue
		}
		if k == "Rome" {
			close(b.reached)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		out := make([]Completion, r.N)
		for i := range out {
			c := cs[min(i, len(cs)-1)]
			out[i] = Completion{c.text, c.finish}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown prompt")
}

func TestCancelKeepsPrefixAndResumes(t *testing.T) {
	dir := t.TempDir()
	in := writeInput(t, dir, inputLines)
	out, rej := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "rejects.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	b := &blocking{reached: make(chan struct{})}
	go func() { <-b.reached; time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := Run(ctx, Config{In: in, Out: out, Rejects: rej, Template: qwen3Template(t), Gen: b, N: 8, Concurrency: 4, Progress: io.Discard})
	if err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
	// Records after b may have finished, but nothing past b is written.
	if got := readLines(t, out); strings.Join(got, "\n") != strings.Join(expectedOut[:3], "\n") {
		t.Fatalf("output after cancel:\n%s", strings.Join(got, "\n"))
	}
	_, srv := newFake(t)
	runFake(t, srv.URL, in, out, rej, true)
	if got := readLines(t, out); strings.Join(got, "\n") != strings.Join(expectedOut, "\n") {
		t.Errorf("resumed output:\n%s", strings.Join(got, "\n"))
	}
}

// TestServerIgnoringN: a server that returns one choice whatever n is asked
// (llama.cpp) is asked again until there are n.
func TestServerIgnoringN(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		k := calls
		mu.Unlock()
		text := fmt.Sprintf("<think>\nr%d\n</think>\n\nanswer %d", k, k)
		json.NewEncoder(w).Encode(endpoint.CompletionResponse{Choices: []endpoint.CompletionChoice{{Text: text, FinishReason: endpoint.Ptr("stop")}}})
	}))
	defer srv.Close()
	g := &Endpoint{Client: &endpoint.Client{BaseURL: srv.URL, Model: "m"}, Sampling: Sampling{Temperature: 1, TopP: 1, MaxTokens: 16}}
	comps, err := g.Generate(context.Background(), Request{Prompt: "p", N: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 3 || calls != 3 || comps[2].Text != "<think>\nr3\n</think>\n\nanswer 3" {
		t.Fatalf("%d calls, completions %+v", calls, comps)
	}
}
