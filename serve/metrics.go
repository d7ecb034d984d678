package serve

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// metrics are the server's Prometheus counters, gauges and histograms.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // {endpoint, status code} → count
	latency  map[string]*histogram
	ttft     *histogram
	batch    *histogram
	stepTime *histogram
	tokens   uint64 // generated
	start    time.Time
}

type histogram struct {
	bounds []float64
	counts []uint64 // per bound, then +Inf
	sum    float64
	n      uint64
}

func newHistogram(bounds ...float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

var latencyBounds = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

func newMetrics() *metrics {
	return &metrics{
		requests: map[[2]string]uint64{},
		latency:  map[string]*histogram{},
		ttft:     newHistogram(latencyBounds...),
		batch:    newHistogram(1, 2, 4, 8, 16, 32, 64, 128, 256),
		stepTime: newHistogram(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
		start:    time.Now(),
	}
}

func (m *metrics) request(endpoint string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{endpoint, fmt.Sprint(status)}]++
	if d > 0 && status == http.StatusOK {
		h := m.latency[endpoint]
		if h == nil {
			h = newHistogram(latencyBounds...)
			m.latency[endpoint] = h
		}
		h.observe(d.Seconds())
	}
}

func (m *metrics) firstToken(d time.Duration) {
	m.mu.Lock()
	m.ttft.observe(d.Seconds())
	m.mu.Unlock()
}

// step is the batcher's OnStep hook.
func (m *metrics) step(n int, d time.Duration) {
	m.mu.Lock()
	m.batch.observe(float64(n))
	m.stepTime.observe(d.Seconds())
	m.tokens += uint64(n)
	m.mu.Unlock()
}

func (s *Server) metricsPage(w http.ResponseWriter, r *http.Request) {
	st := s.b.Stats()
	m := s.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	head := func(name, typ, help string) { fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ) }
	head("star_requests_total", "counter", "HTTP requests by endpoint and status code.")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+" "+a[1], b[0]+" "+b[1]) })
	for _, k := range keys {
		fmt.Fprintf(&b, "star_requests_total{endpoint=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	head("star_queue_depth", "gauge", "Sequences waiting for a batch row.")
	fmt.Fprintf(&b, "star_queue_depth %d\n", st.Queued)
	head("star_batch_active", "gauge", "Sequences in the running batch.")
	fmt.Fprintf(&b, "star_batch_active %d\n", st.Active)
	head("star_generated_tokens_total", "counter", "Tokens generated (first tokens from prefill included).")
	fmt.Fprintf(&b, "star_generated_tokens_total %d\n", st.Tokens)
	head("star_prompt_tokens_total", "counter", "Prompt tokens prefilled.")
	fmt.Fprintf(&b, "star_prompt_tokens_total %d\n", st.Prompts)
	head("star_decode_steps_total", "counter", "Batched decode steps.")
	fmt.Fprintf(&b, "star_decode_steps_total %d\n", st.Steps)
	head("star_generation_tokens_per_second", "gauge", "Generated tokens per second since the server started.")
	fmt.Fprintf(&b, "star_generation_tokens_per_second %g\n", float64(st.Tokens)/max(time.Since(m.start).Seconds(), 1e-9))
	head("star_batch_size", "histogram", "Sequences advanced per decode step.")
	m.batch.write(&b, "star_batch_size", "")
	head("star_decode_step_seconds", "histogram", "Duration of a batched decode step.")
	m.stepTime.write(&b, "star_decode_step_seconds", "")
	head("star_time_to_first_token_seconds", "histogram", "From admission to the first token sent (whole answer when not streaming).")
	m.ttft.write(&b, "star_time_to_first_token_seconds", "")
	head("star_request_duration_seconds", "histogram", "Duration of successful requests by endpoint.")
	eps := make([]string, 0, len(m.latency))
	for k := range m.latency {
		eps = append(eps, k)
	}
	slices.Sort(eps)
	for _, e := range eps {
		m.latency[e].write(&b, "star_request_duration_seconds", fmt.Sprintf("endpoint=%q", e))
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

func (h *histogram) write(b *strings.Builder, name, labels string) {
	sep := ""
	if labels != "" {
		sep = ","
	}
	var cum uint64
	for i, bound := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(b, "%s_bucket{%s%sle=\"%g\"} %d\n", name, labels, sep, bound, cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(b, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, cum)
	if labels != "" {
		labels = "{" + labels + "}"
	}
	fmt.Fprintf(b, "%s_sum%s %g\n%s_count%s %d\n", name, labels, h.sum, name, labels, h.n)
}
