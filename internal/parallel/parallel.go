// Package parallel runs per-record work on every core while keeping output in
// input order: read a batch, map it in parallel, write it, repeat. Batches
// bound memory, and ordered output keeps runs reproducible.
package parallel

import (
	"runtime"
	"sync"
)

// Map returns fn applied to every element of in, computed on up to workers
// goroutines (<= 0 means GOMAXPROCS). out[i] = fn(i, in[i]).
func Map[T, R any](workers int, in []T, fn func(i int, x T) R) []R {
	out := make([]R, len(in))
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > len(in) {
		workers = len(in)
	}
	if workers <= 1 {
		for i, x := range in {
			out[i] = fn(i, x)
		}
		return out
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	const chunk = 16 // amortise the lock; records take microseconds each
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				start := next
				next += chunk
				mu.Unlock()
				if start >= len(in) {
					return
				}
				end := min(start+chunk, len(in))
				for i := start; i < end; i++ {
					out[i] = fn(i, in[i])
				}
			}
		}()
	}
	wg.Wait()
	return out
}
