package reward

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/star-go/star/internal/pyjson"
)

// fixtureBatch is the reference rows as an OpenRLHF request.
func fixtureBatch(t testing.TB) (q, p, l []string) {
	for _, v := range loadVectors(t) {
		q = append(q, v.Prompt+v.Generation)
		p = append(p, v.Prompt)
		l = append(l, v.Label)
	}
	return
}

func requestBody(q, p, l []string) []byte {
	return pyjson.Marshal(pyjson.NewObject("query", strs(q), "prompts", strs(p), "labels", strs(l)))
}

func strs(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func post(t testing.TB, url string, body []byte) (int, *pyjson.Object) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	v, err := pyjson.Unmarshal(raw)
	if err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, raw)
	}
	return resp.StatusCode, v.(*pyjson.Object)
}

func floats(t testing.TB, o *pyjson.Object, path ...string) []float64 {
	t.Helper()
	var v any = o
	for _, k := range path {
		var ok bool
		if v, ok = v.(*pyjson.Object).Get(k); !ok {
			t.Fatalf("no %v in %s", path, pyjson.MarshalString(o))
		}
	}
	var out []float64
	for _, x := range v.([]any) {
		f, ok := x.(float64)
		if !ok {
			t.Fatalf("%v holds %s, want floats", path, pyjson.MarshalString(x))
		}
		out = append(out, f)
	}
	return out
}

func TestServiceBatchEqualsDirect(t *testing.T) {
	srv := httptest.NewServer((&Service{Workers: 2}).Handler())
	defer srv.Close()
	q, p, l := fixtureBatch(t)
	want, err := ScoreBatch(q, p, l)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/reward", "/get_reward"} {
		code, o := post(t, srv.URL+path, requestBody(q, p, l))
		if code != 200 {
			t.Fatalf("%s: status %d: %s", path, code, pyjson.MarshalString(o))
		}
		if got := strings.Join(o.Keys(), ","); got != "rewards,scores,extra_logs" {
			t.Errorf("keys %s", got)
		}
		rw, sc := floats(t, o, "rewards"), floats(t, o, "scores")
		fr, ar := floats(t, o, "extra_logs", "format_rewards"), floats(t, o, "extra_logs", "answer_rewards")
		for i, r := range want {
			if rw[i] != r.Reward || sc[i] != r.AnswerScore || ar[i] != r.AnswerScore || fr[i] != r.FormatScore {
				t.Fatalf("%s row %d: %v %v %v %v, want %+v", path, i, rw[i], sc[i], fr[i], ar[i], r)
			}
		}
	}
	// an empty batch is fine
	code, o := post(t, srv.URL+"/reward", requestBody(nil, nil, nil))
	if code != 200 || len(floats(t, o, "rewards")) != 0 {
		t.Errorf("empty batch: %d %s", code, pyjson.MarshalString(o))
	}
}

func TestServiceConcurrentClients(t *testing.T) {
	srv := httptest.NewServer((&Service{MaxInFlight: 3}).Handler())
	defer srv.Close()
	q, p, l := fixtureBatch(t)
	want, _ := ScoreBatch(q, p, l)
	const clients = 8
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// each client sends a different slice, several times
			for rep := 0; rep < 3; rep++ {
				lo := (c*31 + rep*7) % len(q)
				hi := min(len(q), lo+40+c)
				body := requestBody(q[lo:hi], p[lo:hi], l[lo:hi])
				resp, err := http.Post(srv.URL+"/reward", "application/json", bytes.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				v, err := pyjson.Unmarshal(raw)
				if err != nil || resp.StatusCode != 200 {
					errs <- fmt.Errorf("status %d: %s", resp.StatusCode, raw)
					return
				}
				got, _ := v.(*pyjson.Object).Get("rewards")
				for i, x := range got.([]any) {
					if x.(float64) != want[lo+i].Reward {
						errs <- fmt.Errorf("client %d row %d: %v, want %v", c, lo+i, x, want[lo+i].Reward)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestServiceErrors(t *testing.T) {
	srv := httptest.NewServer((&Service{MaxBodyBytes: 1 << 16}).Handler())
	defer srv.Close()
	q, p, l := fixtureBatch(t)
	for _, c := range []struct {
		name string
		body string
		code int
		msg  string
	}{
		{"not JSON", `{"query": [`, 400, "not JSON"},
		{"not an object", `[1, 2]`, 400, "JSON object"},
		{"missing field", `{"query": [], "prompts": []}`, 400, `"labels"`},
		{"field not a list", `{"query": "x", "prompts": [], "labels": []}`, 400, "list of strings"},
		{"item not a string", `{"query": [1], "prompts": ["p"], "labels": ["l"]}`, 400, "item 0"},
		{"length mismatch", string(requestBody(q[:2], p[:1], l[:2])), 400, "differ in length"},
		{"invalid label", string(requestBody(q[:3], p[:3], []string{l[0], l[1], "no think tag"})), 422, "label"},
		{"oversize", string(requestBody(q, p, l)), 413, "limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, o := post(t, srv.URL+"/reward", []byte(c.body))
			msg, _ := o.Get("error")
			if code != c.code || !strings.Contains(fmt.Sprint(msg), c.msg) {
				t.Errorf("got %d %s, want %d mentioning %q", code, pyjson.MarshalString(o), c.code, c.msg)
			}
			if c.code == 422 {
				if idx, _ := o.Get("index"); idx != int64(2) {
					t.Errorf("index %v, want 2", idx)
				}
			}
		})
	}
	// wrong method, health, unknown route
	resp, err := http.Get(srv.URL + "/reward")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /reward: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp, err = http.Post(srv.URL+"/health", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST /health: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(raw) != "{\"status\": \"ok\"}\n" {
		t.Errorf("GET /health: %d %q", resp.StatusCode, raw)
	}
	resp, err = http.Get(srv.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /nope: %d", resp.StatusCode)
	}
}

func TestServiceTimeout(t *testing.T) {
	srv := httptest.NewServer((&Service{Timeout: time.Nanosecond}).Handler())
	defer srv.Close()
	q, p, l := fixtureBatch(t)
	code, o := post(t, srv.URL+"/reward", requestBody(q, p, l))
	if code != 503 {
		t.Errorf("status %d %s, want 503", code, pyjson.MarshalString(o))
	}
}

// TestServiceGracefulShutdown: cancelling Serve's context lets a request
// already in flight finish, then Serve returns nil and the port is closed.
func TestServiceGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Service{}).Serve(ctx, ln) }()

	q, p, l := fixtureBatch(t)
	body := requestBody(q[:20], p[:20], l[:20])
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /reward HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	half := len(body) / 2
	conn.Write(body[:half])
	time.Sleep(100 * time.Millisecond) // the server is now reading the body
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	conn.Write(body[half:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(raw, []byte(`{"rewards": [`)) {
		t.Fatalf("in-flight request: %d %s", resp.StatusCode, raw)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("still accepting connections after shutdown")
	}
}
