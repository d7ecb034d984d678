package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/star-go/star/internal/fixture"
)

// TestServeCommand starts `star serve` on a loopback port with an API key,
// asks it a chat completion, and stops it by cancelling its context (what
// SIGINT/SIGTERM do).
func TestServeCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	if _, err := runStdout(t, "model", "init", "--vocab", "151936", "--hidden", "8", "--layers", "1", "--heads", "2", "--kv-heads", "1",
		"--head-dim", "4", "--intermediate", "8", "--tie", "--tokenizer", fixture.Path(t, "fixtures/qwen3"), "-o", dir); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--model", dir, "--addr", addr, "--served-model-name", "tiny", "--api-key", "k", "--quiet", "--max-batch", "2"})
	}()
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not come up: %v", err)
		}
		select {
		case err := <-done:
			t.Fatalf("star serve exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	post := func(key string) int {
		req, _ := http.NewRequest("POST", url+"/v1/chat/completions",
			strings.NewReader(`{"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}`))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("k"); code != 200 {
		t.Errorf("chat with the key: status %d", code)
	}
	if code := post(""); code != 401 {
		t.Errorf("chat without the key: status %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("star serve stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("star serve did not stop")
	}
	for _, args := range [][]string{{}, {"--model", dir, "--max-batch", "0"}, {"--model", dir, "extra"}} {
		if err := runServe(context.Background(), args); !errors.Is(err, errUsage) {
			t.Errorf("star serve %v: err %v, want a usage error", args, err)
		}
	}
}

// TestBenchServe runs the load generator end to end on a tiny model.
func TestBenchServe(t *testing.T) {
	out, err := runStdout(t, "bench", "serve", "--tokenizer", fixture.Path(t, "fixtures/qwen3"), "--vocab", "1000", "--hidden", "8",
		"--layers", "1", "--heads", "2", "--kv-heads", "1", "--head-dim", "4", "--intermediate", "8",
		"--clients", "1,3", "--prompt-len", "4", "--new-tokens", "3", "--rounds", "1", "--repeat", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "speed-up 3 vs 1 clients: serve ") || strings.Count(out, "\n") != 6 {
		t.Errorf("bench serve output:\n%s", out)
	}
}
