package rollout

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/star-go/star/endpoint"
)

// BenchmarkRollout measures star rollout's own cost per completion: a server
// that answers at once with n = 8 typical completions (a think block and a
// call; two duplicates, one invalid), so everything timed is ours: reading
// and parsing records, rendering the prompt, the HTTP round trip and JSON,
// parsing and checking completions, dedup and writing records.
func BenchmarkRollout(b *testing.B) {
	texts := []string{
		"<think>\nThe user wants the weather in Paris; get_weather takes a city.\n</think>\n\n" + call("get_weather", `{"city": "Paris"}`),
		"<think>\nThe user wants the weather in Paris; get_weather takes a city.\n</think>\n\n" + call("get_weather", `{"city": "Paris", "unit": "celsius"}`),
		"<think>\nI will ask which Paris.\n</think>\n\nDo you mean Paris, France?",
		"<think>\nWeather.\n</think>\n\n" + call("get_weather", `{"town": "Paris"}`),
	}
	resp := endpoint.CompletionResponse{ID: "cmpl", Object: "text_completion", Model: "teacher"}
	for i := range 8 {
		resp.Choices = append(resp.Choices, endpoint.CompletionChoice{Index: i, Text: texts[i%len(texts)], FinishReason: endpoint.Ptr("stop")})
	}
	body, _ := json.Marshal(resp)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()

	dir := b.TempDir()
	in := writeInput(b, dir, nil)
	var sb strings.Builder
	for range max(b.N, 1) {
		sb.WriteString(inputLines[0])
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(in, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	tmpl := qwen3Template(b)
	client := &endpoint.Client{BaseURL: srv.URL, Model: "teacher", Concurrency: 16}
	b.ResetTimer()
	start := time.Now()
	sum, err := Run(context.Background(), Config{
		In: in, Out: filepath.Join(dir, "out.jsonl"), Template: tmpl, N: 8, Concurrency: 16, Progress: io.Discard,
		Gen: &Endpoint{Client: client, Sampling: Sampling{Temperature: 1, TopP: 1, TopK: -1, MaxTokens: 2048}},
	})
	el := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if sum.Completions != 8*b.N || sum.Kept != 3*b.N {
		b.Fatalf("summary %+v", sum)
	}
	b.ReportMetric(float64(el.Nanoseconds())/float64(sum.Completions), "ns/completion")
	b.ReportMetric(float64(sum.Records)/el.Seconds(), "records/s")
}
