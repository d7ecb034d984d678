package reward

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time. Benchmarks report rewards
// per CPU second beside rewards per wall second, which holds up on a busy
// machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func report(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rewards/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "rewards/cpu-s")
	}
}

// BenchmarkScore scores the 262 reference rows on one core; rewards/s is
// the figure to compare with the original (~21k rewards/s here).
func BenchmarkScore(b *testing.B) {
	vs := loadVectors(b)
	s := NewScorer()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		for _, v := range vs {
			if _, err := s.Score(v.Prompt, v.Label, v.Generation); err != nil {
				b.Fatal(err)
			}
		}
		n += len(vs)
	}
	report(b, n, cpu0)
}

// BenchmarkScoreNoCache is BenchmarkScore with a fresh scorer per row: no
// label or prompt parse is reused (the worst case: every row a new prompt).
func BenchmarkScoreNoCache(b *testing.B) {
	vs := loadVectors(b)
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		for _, v := range vs {
			s := Scorer{rouge: sharedRouge}
			if _, err := s.Score(v.Prompt, v.Label, v.Generation); err != nil {
				b.Fatal(err)
			}
		}
		n += len(vs)
	}
	report(b, n, cpu0)
}

var sharedRouge = newRouge()

// BenchmarkScoreParallel is BenchmarkScore on every core (b.RunParallel).
func BenchmarkScoreParallel(b *testing.B) {
	vs := loadVectors(b)
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		s := NewScorer()
		i := 0
		for pb.Next() {
			v := vs[i%len(vs)]
			i++
			if _, err := s.Score(v.Prompt, v.Label, v.Generation); err != nil {
				b.Error(err)
				return
			}
		}
	})
	report(b, b.N, cpu0)
}

// BenchmarkScoreBatchParallel is an OpenRLHF-sized request (1024 queries,
// prompt + generation) through ScoreBatchParallel on every core.
func BenchmarkScoreBatchParallel(b *testing.B) {
	vs := loadVectors(b)
	var q, p, l []string
	for len(q) < 1024 {
		for _, v := range vs {
			q = append(q, v.Prompt+v.Generation)
			p = append(p, v.Prompt)
			l = append(l, v.Label)
		}
	}
	q, p, l = q[:1024], p[:1024], l[:1024]
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := ScoreBatchParallel(context.Background(), 0, q, p, l); err != nil {
			b.Fatal(err)
		}
		n += len(q)
	}
	report(b, n, cpu0)
}

// BenchmarkService is BenchmarkScoreBatchParallel over HTTP on loopback:
// request JSON out, parse, score on every core, response JSON back.
func BenchmarkService(b *testing.B) {
	srv := httptest.NewServer((&Service{}).Handler())
	defer srv.Close()
	q, p, l := fixtureBatch(b)
	for len(q) < 1024 {
		q, p, l = append(q, q...), append(p, p...), append(l, l...)
	}
	body := requestBody(q[:1024], p[:1024], l[:1024])
	b.SetBytes(int64(len(body)))
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		resp, err := http.Post(srv.URL+"/reward", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		n += 1024
	}
	report(b, n, cpu0)
}
