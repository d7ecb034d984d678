package model

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// benchContinuous alternates, per op, Generate on a fixed batch of clients
// 128-token prompts (32 new tokens) and the same work served by a Batcher
// to clients goroutines that submit at once and wait (each with its own
// request, as a server's clients). Alternating in one benchmark keeps other
// load on the machine from favouring either; both are reported in tokens
// per second and per CPU-second of the process.
func benchContinuous(b *testing.B, clients int) {
	m := benchModel(b)
	prompts := randSeqs(clients, 128, 8192)
	opt := GenerateOptions{MaxNewTokens: 32, EOS: []int{}}
	bt := m.NewBatcher(BatcherOptions{MaxBatch: clients})
	defer bt.Close()
	ctx := context.Background()
	served := func() {
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				s, err := bt.Submit(ctx, prompts[i], 1, opt)
				if err == nil {
					_, err = s[0].Wait(ctx)
				}
				if err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	fixed := func() {
		if _, err := m.Generate(ctx, prompts, opt); err != nil {
			b.Fatal(err)
		}
	}
	served() // compile
	fixed()
	var wall, cpu [2]float64
	b.ResetTimer()
	for b.Loop() {
		for k, f := range []func(){fixed, served} {
			t0, c0 := time.Now(), cpuSeconds()
			f()
			wall[k] += time.Since(t0).Seconds()
			cpu[k] += cpuSeconds() - c0
		}
	}
	tokens := float64(clients * 32 * b.N)
	b.ReportMetric(tokens/wall[0], "fixed-tok/s")
	b.ReportMetric(tokens/wall[1], "served-tok/s")
	b.ReportMetric(tokens/cpu[0], "fixed-tok/cpu-s")
	b.ReportMetric(tokens/cpu[1], "served-tok/cpu-s")
}

func BenchmarkContinuous1(b *testing.B) { benchContinuous(b, 1) }
func BenchmarkContinuous8(b *testing.B) { benchContinuous(b, 8) }
