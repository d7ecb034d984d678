package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

// TestRewardScoreFixture: scoring the reference vectors rewrites each line
// byte for byte (the fixture already holds reward, answer_score and
// format_score, typed as the original returns them).
func TestRewardScoreFixture(t *testing.T) {
	in := fixture.Path(t, "fixtures/simrl/reward_vectors.jsonl")
	out := filepath.Join(t.TempDir(), "out.jsonl")
	var code int
	stderr := captureStderr(t, func() {
		code = run(context.Background(), []string{"reward", "score", in, "-o", out})
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := readLines(t, in)
	got := readLines(t, out)
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d differs:\n got %.300s\nwant %.300s", i+1, got[i], want[i])
		}
	}
	if !strings.Contains(stderr, "reward score: 262 records, 262 written") {
		t.Errorf("summary: %s", stderr)
	}
}

func TestRewardScoreQueriesAndRejects(t *testing.T) {
	dir := t.TempDir()
	prompt := "<|im_start|>system\n<tools>\n{\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {}}}}\n</tools><|im_end|>\n<|im_start|>assistant\n<think>"
	label := "</think><tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call><|im_end|>\n"
	gen := "</think><tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1.0}}\n</tool_call><|im_end|>"
	rec := func(kv ...any) string { return pyjson.MarshalString(pyjson.NewObject(kv...)) }
	lines := []string{
		rec("id", "q", "query", prompt+gen, "prompt", prompt, "label", label),
		rec("id", "g", "prompt", prompt, "label", label, "generation", "</think>no calls"),
		`{"id": "broken"`,
		rec("id", "nolabel", "prompt", prompt, "generation", gen),
		rec("id", "badtype", "prompt", prompt, "label", 3, "generation", gen),
		rec("id", "badlabel", "prompt", prompt, "label", "no think", "generation", gen),
		`[1, 2]`,
		rec("id", "fmt", "prompt", prompt, "label", label, "generation", "no think"),
	}
	in := writeFile(t, dir, "in.jsonl", strings.Join(lines, "\n")+"\n")
	out := filepath.Join(dir, "out.jsonl")
	rej := filepath.Join(dir, "rejects.jsonl")
	var code int
	stderr := captureStderr(t, func() {
		code = run(context.Background(), []string{"reward", "score", in, "-o", out, "--rejects", rej})
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := readLines(t, out)
	wantOut := []string{
		rec("id", "q", "query", prompt+gen, "prompt", prompt, "label", label, "reward", 1.0, "answer_score", 1.0, "format_score", 1),
		rec("id", "g", "prompt", prompt, "label", label, "generation", "</think>no calls", "reward", 0, "answer_score", 0, "format_score", 1),
		rec("id", "fmt", "prompt", prompt, "label", label, "generation", "no think", "reward", -1, "answer_score", 0, "format_score", -1),
	}
	if strings.Join(got, "\n") != strings.Join(wantOut, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantOut, "\n"))
	}
	rejects := readLines(t, rej)
	wantRej := []struct {
		line  int64
		field string
	}{{3, ""}, {4, "label"}, {5, "label"}, {6, "label"}, {7, ""}}
	if len(rejects) != len(wantRej) {
		t.Fatalf("%d rejects, want %d:\n%s", len(rejects), len(wantRej), strings.Join(rejects, "\n"))
	}
	for i, w := range wantRej {
		v, err := pyjson.UnmarshalString(rejects[i])
		if err != nil {
			t.Fatal(err)
		}
		o := v.(*pyjson.Object)
		line, _ := o.Get("line")
		field, _ := o.Get("field")
		if line != w.line || field != w.field {
			t.Errorf("reject %d: %s, want line %d field %q", i, rejects[i], w.line, w.field)
		}
	}
	if !strings.Contains(stderr, "8 records, 3 written, 5 rejected") {
		t.Errorf("summary: %s", stderr)
	}
}

func TestRewardServeCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"reward", "serve", "--addr", addr, "--quiet", "--timeout", "5s"}) }()
	url := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("service did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	body := `{"query": ["<|im_start|>assistant\n<think></think>hello<|im_end|>"], "prompts": ["<|im_start|>assistant\n<think>"], "labels": ["</think>hello<|im_end|>\n"]}`
	resp, err := http.Post(url+"/reward", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"rewards": [1.0], "scores": [1.0], "extra_logs": {"format_rewards": [1.0], "answer_rewards": [1.0]}}` + "\n"
	if resp.StatusCode != 200 || string(raw) != want {
		t.Errorf("POST /reward: %d %s", resp.StatusCode, raw)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after shutdown", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
