package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer serves the script model on a loopback port until the test ends.
type testServer struct {
	*Server
	url  string
	stop func() error
}

func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "script"
	}
	s, err := Open(scriptModel(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	var once sync.Once
	var stopErr error
	ts := &testServer{Server: s, url: "http://" + ln.Addr().String(), stop: func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-errc:
			case <-time.After(30 * time.Second):
				stopErr = fmt.Errorf("server did not stop")
			}
		})
		return stopErr
	}}
	t.Cleanup(func() {
		if err := ts.stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ts
}

func (ts *testServer) post(t *testing.T, path, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, b)
	}
	return v
}

// sseEvents splits a server-sent event stream into its data payloads.
func sseEvents(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		out = append(out, data)
	}
	return out
}

const weatherTools = `[{"type": "function", "function": {"name": "get_weather", "description": "Weather forecast", "parameters": {"type": "object", "properties": {"days": {"type": "integer"}}, "required": ["days"]}}}]`

func chatBody(extra string) string {
	b := `{"model": "script", "messages": [{"role": "user", "content": "Weather for 3 days?"}], "tools": ` + weatherTools
	if extra != "" {
		b += ", " + extra
	}
	return b + "}"
}

// TestChatToolCall: the completion is parsed into reasoning, no content
// and one tool call with arguments as a JSON string.
func TestChatToolCall(t *testing.T) {
	ts := startServer(t, Config{})
	resp, b := ts.post(t, "/v1/chat/completions", chatBody(`"logprobs": true, "top_logprobs": 2, "return_tokens_as_token_ids": true`))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var r chatResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Object != "chat.completion" || r.Model != "script" || !strings.HasPrefix(r.ID, "chatcmpl-") || len(r.Choices) != 1 {
		t.Fatalf("response: %s", b)
	}
	c := r.Choices[0]
	if c.FinishReason != "tool_calls" || c.Message.Role != "assistant" || c.Message.Content != nil {
		t.Errorf("choice: %s", b)
	}
	if c.Message.ReasoningContent == nil || *c.Message.ReasoningContent != "ok" {
		t.Errorf("reasoning_content: %s", b)
	}
	if len(c.Message.ToolCalls) != 1 {
		t.Fatalf("tool calls: %s", b)
	}
	tc := c.Message.ToolCalls[0]
	if tc.Type != "function" || tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"days": 3}` || !strings.HasPrefix(tc.ID, "call_") || tc.Index != nil {
		t.Errorf("tool call: %+v", tc)
	}
	if r.Usage.CompletionTokens != len(scriptChain) || r.Usage.TotalTokens != r.Usage.PromptTokens+len(scriptChain) || r.Usage.PromptTokens < 50 {
		t.Errorf("usage: %+v", r.Usage)
	}
	lp := c.Logprobs.Content
	if len(lp) != len(scriptChain) {
		t.Fatalf("%d logprobs for %d tokens", len(lp), len(scriptChain))
	}
	for i, e := range lp {
		if e.Token != fmt.Sprintf("token_id:%d", scriptChain[i]) || e.Logprob > 0 || e.Logprob < -1e-3 || len(e.TopLogprobs) != 2 || e.TopLogprobs[0].Token != e.Token {
			t.Errorf("logprob %d: %+v", i, e)
		}
	}
	// OpenAI's "developer" role is a system message; zero penalties are accepted.
	resp, b = ts.post(t, "/v1/chat/completions", `{"model": "script", "messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hi"}], "frequency_penalty": 0, "presence_penalty": 0.0, "response_format": {"type": "text"}, "max_tokens": 3}`)
	if resp.StatusCode != 200 {
		t.Errorf("developer role: %d %s", resp.StatusCode, b)
	}
	// tool_choice none: no parsing, the call stays in the content.
	_, b = ts.post(t, "/v1/chat/completions", chatBody(`"tool_choice": "none"`))
	r = chatResponse{}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if c := r.Choices[0]; c.FinishReason != "stop" || c.Message.Content == nil || !strings.HasPrefix(*c.Message.Content, "<tool_call>{") || c.Message.ToolCalls != nil {
		t.Errorf("tool_choice none: %s", b)
	}
	// enable_thinking false: the prompt ends in an empty think block, the
	// model goes straight to the call.
	_, b = ts.post(t, "/v1/chat/completions", chatBody(`"chat_template_kwargs": {"enable_thinking": false}, "max_tokens": 100`))
	r = chatResponse{}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if c := r.Choices[0]; c.FinishReason != "tool_calls" || c.Message.ReasoningContent != nil || len(c.Message.ToolCalls) != 1 {
		t.Errorf("enable_thinking false: %s", b)
	}
	// max_tokens cuts the call: finish_reason length, nothing parsed.
	_, b = ts.post(t, "/v1/chat/completions", chatBody(`"max_tokens": 6`))
	r = chatResponse{}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if c := r.Choices[0]; c.FinishReason != "length" || len(c.Message.ToolCalls) != 0 || r.Usage.CompletionTokens != 6 {
		t.Errorf("max_tokens 6: %s", b)
	}
}

// TestChatStream checks the chunk shapes: role first, reasoning and
// tool-call deltas as OpenAI sends them, finish_reason, usage, [DONE].
func TestChatStream(t *testing.T) {
	ts := startServer(t, Config{})
	resp, b := ts.post(t, "/v1/chat/completions", chatBody(`"stream": true, "stream_options": {"include_usage": true}, "n": 2, "logprobs": true`))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	ev := sseEvents(t, b)
	if ev[len(ev)-1] != "[DONE]" {
		t.Fatalf("no [DONE]: %q", ev[len(ev)-1])
	}
	type acc struct {
		role, reasoning, content string
		name, args, id           string
		chunks                   int
		finish                   string
		logprobs                 int
	}
	choices := map[int]*acc{}
	var final chatChunk
	for _, e := range ev[:len(ev)-1] {
		var c chatChunk
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatalf("chunk %s: %v", e, err)
		}
		if c.Object != "chat.completion.chunk" {
			t.Errorf("object %q", c.Object)
		}
		if len(c.Choices) == 0 {
			final = c
			continue
		}
		for _, ch := range c.Choices {
			a := choices[ch.Index]
			if a == nil {
				a = &acc{}
				choices[ch.Index] = a
				if ch.Delta.Role != "assistant" {
					t.Errorf("first chunk of choice %d has no role: %s", ch.Index, e)
				}
			}
			a.role += ch.Delta.Role
			if ch.Delta.ReasoningContent != nil {
				a.reasoning += *ch.Delta.ReasoningContent
			}
			if ch.Delta.Content != nil {
				a.content += *ch.Delta.Content
			}
			for _, tc := range ch.Delta.ToolCalls {
				a.chunks++
				if tc.Index == nil || *tc.Index != 0 {
					t.Errorf("tool call delta without index 0: %s", e)
				}
				if tc.ID != "" {
					a.id = tc.ID
					if tc.Type != "function" || tc.Function.Name == "" || tc.Function.Arguments != "" {
						t.Errorf("first tool call delta: %s", e)
					}
				}
				a.name += tc.Function.Name
				a.args += tc.Function.Arguments
			}
			if ch.Logprobs != nil {
				a.logprobs += len(ch.Logprobs.Content)
			}
			if ch.FinishReason != nil {
				a.finish = *ch.FinishReason
			}
		}
	}
	if len(choices) != 2 {
		t.Fatalf("%d choices", len(choices))
	}
	for i, a := range choices {
		if a.role != "assistant" || a.reasoning != "ok" || a.content != "" || a.name != "get_weather" || a.args != `{"days": 3}` ||
			a.chunks != 2 || !strings.HasPrefix(a.id, "call_") || a.finish != "tool_calls" || a.logprobs != len(scriptChain) {
			t.Errorf("choice %d: %+v", i, a)
		}
	}
	if final.Usage == nil || final.Usage.CompletionTokens != 2*len(scriptChain) {
		t.Errorf("usage chunk: %+v", final)
	}
}

// TestCompletions: token-id prompts, echo, logprobs and prompt_logprobs.
func TestCompletions(t *testing.T) {
	ts := startServer(t, Config{})
	// [198, <think>, ok]: the script continues with </think>.
	body := `{"model": "script", "prompt": [198, 151667, 562], "max_tokens": 3, "echo": true, "logprobs": 2, "prompt_logprobs": 3, "temperature": 0}`
	resp, b := ts.post(t, "/v1/completions", body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var r completionResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	c := r.Choices[0]
	if c.Text != "\n<think>ok</think><tool_call>{\"" || *c.FinishReason != "length" {
		t.Errorf("text %q finish %q", c.Text, *c.FinishReason)
	}
	lp := c.Logprobs
	if len(lp.Tokens) != 6 || lp.TokenLogprobs[0] != nil || lp.TopLogprobs[0] != nil || lp.Tokens[3] != "</think>" {
		t.Errorf("echo logprobs: %s", b)
	}
	for i := 1; i < 6; i++ {
		if v := *lp.TokenLogprobs[i]; v > 0 || v < -1e-3 || len(lp.TopLogprobs[i]) != 2 {
			t.Errorf("token %d: logprob %v top %v", i, v, lp.TopLogprobs[i])
		}
	}
	if len(c.PromptLogprobs) != 3 || c.PromptLogprobs[0] != nil {
		t.Fatalf("prompt_logprobs: %s", b)
	}
	for i, want := range []int{151667, 562} {
		e, ok := c.PromptLogprobs[i+1][fmt.Sprint(want)]
		if !ok || e.Rank != 1 || e.Logprob < -1e-3 || e.DecodedToken == "" || len(c.PromptLogprobs[i+1]) != 3 {
			t.Errorf("prompt_logprobs[%d]: %v", i+1, c.PromptLogprobs[i+1])
		}
	}
	// After a token the script does not know, every token is equally
	// likely: -log(V), and the greedy choice is token 0 ("!").
	resp, b = ts.post(t, "/v1/completions", `{"model": "script", "prompt": "Hello", "max_tokens": 4, "temperature": 0, "logprobs": 1, "prompt_logprobs": 0}`)
	if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v: %s", resp.StatusCode, err, b)
	}
	c = r.Choices[0]
	if c.Text != "!!!!" || r.Usage.CompletionTokens != 4 || r.Usage.PromptTokens != 1 {
		t.Errorf("uniform continuation: %s", b)
	}
	if v := *c.Logprobs.TokenLogprobs[0]; math.Abs(float64(v)+math.Log(151936)) > 1e-3 {
		t.Errorf("uniform logprob %v, want %v", v, -math.Log(151936))
	}
	// Without a seed, two sampled requests differ.
	texts := map[string]bool{}
	for range 2 {
		_, b = ts.post(t, "/v1/completions", `{"model": "script", "prompt": "Hello", "max_tokens": 4}`)
		r = completionResponse{}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		texts[r.Choices[0].Text] = true
	}
	if len(texts) != 2 {
		t.Errorf("two unseeded requests sampled the same text: %v", texts)
	}
	// Stop strings are cut from the text; two prompts with n=2 give four choices.
	_, b = ts.post(t, "/v1/completions", `{"model": "script", "prompt": [[198], [271]], "n": 2, "stop": ["arguments"], "temperature": 0}`)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	want := []string{`<think>ok</think><tool_call>{"`, `<think>ok</think><tool_call>{"`, `<tool_call>{"`, `<tool_call>{"`}
	if len(r.Choices) != 4 {
		t.Fatalf("choices: %s", b)
	}
	for i, c := range r.Choices {
		if c.Index != i || c.Text != want[i] || *c.FinishReason != "stop" {
			t.Errorf("choice %d: %+v", i, c)
		}
	}
}

func TestCompletionsStream(t *testing.T) {
	ts := startServer(t, Config{})
	_, b := ts.post(t, "/v1/completions", `{"model": "script", "prompt": [198], "stream": true, "echo": true, "logprobs": 0, "stream_options": {"include_usage": true}}`)
	ev := sseEvents(t, b)
	if ev[len(ev)-1] != "[DONE]" {
		t.Fatalf("no [DONE]")
	}
	var text string
	var tokens int
	var finish string
	var u *usage
	for _, e := range ev[:len(ev)-1] {
		var c completionResponse
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatal(err)
		}
		if c.Usage != nil {
			u = c.Usage
		}
		for _, ch := range c.Choices {
			text += ch.Text
			if ch.Logprobs != nil {
				tokens += len(ch.Logprobs.Tokens)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
	}
	if text != "\n"+scriptText || finish != "stop" || tokens != 1+len(scriptChain) || u == nil || u.CompletionTokens != len(scriptChain) {
		t.Errorf("text %q finish %q tokens %d usage %+v", text, finish, tokens, u)
	}
}

// TestErrors: every bad request gets its status and OpenAI's error object.
func TestErrors(t *testing.T) {
	ts := startServer(t, Config{APIKey: "sekret", MaxBodyBytes: 4096, MaxLogprobs: 5, MaxModelLen: 512})
	auth := []string{"Authorization", "Bearer sekret"}
	msgs := `"messages": [{"role": "user", "content": "hi"}]`
	cases := []struct {
		name, path, body string
		header           []string
		status           int
		param            string
	}{
		{"no key", "/v1/chat/completions", `{}`, nil, 401, ""},
		{"wrong key", "/v1/chat/completions", `{}`, []string{"Authorization", "Bearer nope"}, 401, ""},
		{"malformed JSON", "/v1/chat/completions", `{"model": `, auth, 400, ""},
		{"not an object", "/v1/chat/completions", `[1]`, auth, 400, ""},
		{"unknown model", "/v1/chat/completions", `{"model": "gpt-4", ` + msgs + `}`, auth, 400, "model"},
		{"no model", "/v1/chat/completions", `{` + msgs + `}`, auth, 400, "model"},
		{"no messages", "/v1/chat/completions", `{"model": "script"}`, auth, 400, "messages"},
		{"bad role", "/v1/chat/completions", `{"model": "script", "messages": [{"role": "wizard", "content": "hi"}]}`, auth, 400, "messages[0].role"},
		{"tool without name", "/v1/chat/completions", `{"model": "script", ` + msgs + `, "tools": [{"type": "function", "function": {"description": "x"}}]}`, auth, 400, "tools[0].function.name"},
		{"n too large", "/v1/chat/completions", `{"model": "script", ` + msgs + `, "n": 1000}`, auth, 400, "n"},
		{"top_logprobs over limit", "/v1/chat/completions", `{"model": "script", ` + msgs + `, "logprobs": true, "top_logprobs": 6}`, auth, 400, "top_logprobs"},
		{"temperature type", "/v1/chat/completions", `{"model": "script", ` + msgs + `, "temperature": "hot"}`, auth, 400, "temperature"},
		{"tool_choice function", "/v1/chat/completions", `{"model": "script", ` + msgs + `, "tool_choice": {"type": "function"}}`, auth, 400, "tool_choice"},
		{"frequency_penalty", "/v1/chat/completions", `{"model": "script", ` + msgs + `, "frequency_penalty": 0.5}`, auth, 400, "frequency_penalty"},
		{"logit_bias", "/v1/chat/completions", `{"model": "script", ` + msgs + `, "logit_bias": {"1": 5}}`, auth, 400, "logit_bias"},
		{"response_format json", "/v1/chat/completions", `{"model": "script", ` + msgs + `, "response_format": {"type": "json_object"}}`, auth, 400, "response_format"},
		{"stream_options without stream", "/v1/chat/completions", `{"model": "script", ` + msgs + `, "stream_options": {"include_usage": true}}`, auth, 400, "stream_options"},
		{"prompt too long", "/v1/completions", `{"model": "script", "prompt": [` + strings.Repeat("1,", 600) + `1]}`, auth, 400, "prompt"},
		{"token out of vocabulary", "/v1/completions", `{"model": "script", "prompt": [1, 999999]}`, auth, 400, "prompt"},
		{"logprobs over limit", "/v1/completions", `{"model": "script", "prompt": "x", "logprobs": 6}`, auth, 400, "logprobs"},
		{"prompt_logprobs over limit", "/v1/completions", `{"model": "script", "prompt": "x", "prompt_logprobs": 99}`, auth, 400, "prompt_logprobs"},
		{"best_of", "/v1/completions", `{"model": "script", "prompt": "x", "best_of": 3}`, auth, 400, "best_of"},
		{"suffix", "/v1/completions", `{"model": "script", "prompt": "x", "suffix": "end"}`, auth, 400, "suffix"},
		{"no prompt", "/v1/completions", `{"model": "script"}`, auth, 400, "prompt"},
		{"max_tokens zero", "/v1/completions", `{"model": "script", "prompt": "x", "max_tokens": 0}`, auth, 400, "max_tokens"},
		{"body too large", "/v1/completions", `{"model": "script", "prompt": "` + strings.Repeat("x", 5000) + `"}`, auth, 413, ""},
		{"wrong method", "/v1/models", `{}`, auth, 405, ""},
		{"unknown route", "/v2/whatever", `{}`, auth, 404, ""},
	}
	for _, c := range cases {
		resp, b := ts.post(t, c.path, c.body, c.header...)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.StatusCode, c.status, b)
			continue
		}
		v := decodeJSON(t, b)
		e, ok := v["error"].(map[string]any)
		if !ok {
			t.Errorf("%s: no error object: %s", c.name, b)
			continue
		}
		for _, k := range []string{"message", "type", "param", "code"} {
			if _, ok := e[k]; !ok {
				t.Errorf("%s: error has no %q: %s", c.name, k, b)
			}
		}
		if msg, _ := e["message"].(string); msg == "" {
			t.Errorf("%s: empty message", c.name)
		}
		if c.param != "" && e["param"] != c.param {
			t.Errorf("%s: param %v, want %q", c.name, e["param"], c.param)
		}
	}
	// /health needs no key; /v1/models does.
	if resp, err := http.Get(ts.url + "/health"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/health without a key: %v %v", resp, err)
	}
	req, _ := http.NewRequest("GET", ts.url+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer sekret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if v := decodeJSON(t, b); resp.StatusCode != 200 || !strings.Contains(string(b), `"id":"script"`) || v["object"] != "list" {
		t.Errorf("/v1/models: %s", b)
	}
}

// TestConcurrentClients: many clients at once, streaming and not, more
// than the batch holds: every response is complete and right.
func TestConcurrentClients(t *testing.T) {
	ts := startServer(t, Config{MaxBatch: 4})
	const clients = 24
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 3 {
			case 0: // chat, one tool call
				_, b := ts.post(t, "/v1/chat/completions", chatBody(""))
				var r chatResponse
				if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) != 1 || len(r.Choices[0].Message.ToolCalls) != 1 ||
					r.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"days": 3}` {
					errs <- fmt.Errorf("client %d: %s", i, b)
				}
			case 1: // streamed chat
				_, b := ts.post(t, "/v1/chat/completions", chatBody(`"stream": true`))
				ev := sseEvents(t, b)
				if len(ev) < 4 || ev[len(ev)-1] != "[DONE]" || !strings.Contains(ev[len(ev)-2], `"finish_reason":"tool_calls"`) {
					errs <- fmt.Errorf("client %d: stream %q", i, ev)
				}
			case 2: // sampled completion of a given length
				_, b := ts.post(t, "/v1/completions", fmt.Sprintf(`{"model": "script", "prompt": "Hello", "max_tokens": %d, "seed": %d}`, 5+i, i))
				var r completionResponse
				if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) != 1 || r.Usage.CompletionTokens != 5+i || *r.Choices[0].FinishReason != "length" {
					errs <- fmt.Errorf("client %d: %s", i, b)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := ts.b.Stats(); st.Active != 0 || st.Queued != 0 {
		t.Errorf("after all requests: %+v", st)
	}
	// The batch really ran more than one sequence per step.
	resp, err := http.Get(ts.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`star_requests_total{endpoint="chat",code="200"} 16`, `star_requests_total{endpoint="completions",code="200"} 8`,
		"star_batch_size_bucket{le=\"4\"}", "star_queue_depth 0", "# TYPE star_request_duration_seconds histogram"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "star_batch_size_bucket{le=\"1\"} "+fmt.Sprint(ts.b.Stats().Steps)+"\n") {
		t.Errorf("every step decoded one sequence: no batching")
	}
}

// longCompletion asks for many tokens after a token the script does not know.
const longCompletion = `{"model": "script", "prompt": "Hello", "max_tokens": 3000, "temperature": 0}`

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestQueueFull: with one row and one queue slot, a third request gets 429
// with Retry-After.
func TestQueueFull(t *testing.T) {
	ts := startServer(t, Config{MaxBatch: 1, MaxQueue: 1, stepDelay: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// One request at a time: two sent together may both find the queue
	// before the batcher admits the first, and the second would get the 429.
	send := func() {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "POST", ts.url+"/v1/completions", strings.NewReader(longCompletion))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	send()
	waitFor(t, "a running request", func() bool { return ts.b.Stats().Active == 1 })
	send()
	waitFor(t, "a running and a queued request", func() bool { st := ts.b.Stats(); return st.Active == 1 && st.Queued == 1 })
	resp, b := ts.post(t, "/v1/completions", `{"model": "script", "prompt": "x"}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), `"type":"rate_limit_error"`) {
		t.Errorf("third request: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	cancel() // the clients go away: their sequences are freed
	waitFor(t, "the batch to empty", func() bool { st := ts.b.Stats(); return st.Active == 0 && st.Queued == 0 })
}

// TestDisconnect: a client that leaves mid-stream frees its row at once.
func TestDisconnect(t *testing.T) {
	ts := startServer(t, Config{stepDelay: time.Millisecond})
	req, _ := http.NewRequest("POST", ts.url+"/v1/completions", strings.NewReader(`{"model": "script", "prompt": "Hello", "max_tokens": 3000, "stream": true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first event: %q %v", line, err)
	}
	waitFor(t, "the sequence to run", func() bool { return ts.b.Stats().Active == 1 })
	resp.Body.Close()
	waitFor(t, "the row to be freed", func() bool { return ts.b.Stats().Active == 0 })
	if st := ts.b.Stats(); st.Tokens >= 3000 {
		t.Errorf("the sequence ran to the end after the client left: %+v", st)
	}
}

// TestTimeout: a request past its limit gets 504 and leaves the batch.
func TestTimeout(t *testing.T) {
	ts := startServer(t, Config{Timeout: 300 * time.Millisecond, stepDelay: time.Millisecond})
	resp, b := ts.post(t, "/v1/completions", `{"model": "script", "prompt": "Hello", "max_tokens": 4000, "temperature": 0}`)
	if resp.StatusCode != 504 || !strings.Contains(string(b), `"code":"timeout"`) {
		t.Errorf("status %d: %s", resp.StatusCode, b)
	}
	waitFor(t, "the row to be freed", func() bool { return ts.b.Stats().Active == 0 })
}

// TestShutdown: stopping the server lets a short request finish and ends a
// long one (its stream ends with an error event), then Serve returns.
func TestShutdown(t *testing.T) {
	ts := startServer(t, Config{ShutdownGrace: 500 * time.Millisecond, stepDelay: time.Millisecond})
	done := make(chan []byte)
	go func() {
		resp, err := http.Post(ts.url+"/v1/completions", "application/json",
			strings.NewReader(`{"model": "script", "prompt": "Hello", "max_tokens": 4000, "stream": true}`))
		if err != nil {
			done <- []byte(err.Error())
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- b
	}()
	waitFor(t, "the request to run", func() bool { return ts.b.Stats().Active == 1 })
	start := time.Now()
	if err := ts.stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	b := <-done
	if !strings.Contains(string(b), `"code":"shutting_down"`) || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
		t.Errorf("the long stream did not end cleanly: ...%s", b[max(0, len(b)-300):])
	}
	if _, err := http.Get(ts.url + "/health"); err == nil {
		t.Errorf("server still answers after shutdown")
	}
}
