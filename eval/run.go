package eval

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/progress"
	"github.com/star-go/star/internal/pyjson"
)

// Job is one prompt to complete: a raw completions prompt (BFCL) or chat
// messages (ACEBench).
type Job struct {
	ID        string
	Prompt    string
	Messages  []any
	MaxTokens int
	// Tokens is the prompt length in tokens when the caller counted it (the
	// token budget rule needs it), else 0.
	Tokens int
}

// Output is a generator's answer for one job. Err is an inference failure
// (after the client's retries); the row is then written with the error as
// its result, as gorilla does, and retried by --resume.
type Output struct {
	Text  string
	Extra []pyjson.Member // token counts, latency
	Err   error
}

// Generator answers jobs: Workers goroutines each send batches of up to
// Batch jobs (an endpoint: many workers, batch 1; an in-process model: one
// worker, batched decoding).
type Generator interface {
	Workers() int
	Batch() int
	Generate(ctx context.Context, jobs []Job) []Output
}

// RunOptions control Run.
type RunOptions struct {
	Path   string // responses.jsonl
	Resume bool   // keep the rows already in Path and skip their ids
	Label  string // progress label
	// Row turns an output into the responses row {id, result, ...}.
	Row func(Job, Output) *pyjson.Object
}

// Run generates the responses of jobs, appending each row to opt.Path as it
// arrives. With Resume, ids already answered (rows without an
// inference_error) are skipped; a torn last line is dropped. Interrupting
// the context stops after the batches in flight, leaving a resumable file.
func Run(ctx context.Context, jobs []Job, gen Generator, opt RunOptions) error {
	done := map[string]bool{}
	if _, err := os.Stat(opt.Path); err == nil {
		if !opt.Resume {
			return fmt.Errorf("%s exists: pass --resume to continue it, or remove it", opt.Path)
		}
		if err := keepAnswered(opt.Path, done); err != nil {
			return err
		}
	}
	var todo []Job
	for _, j := range jobs {
		if !done[j.ID] {
			todo = append(todo, j)
		}
	}
	if err := os.MkdirAll(filepath.Dir(opt.Path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(opt.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	bar := progress.New(opt.Label, int64(len(todo)), "items")
	defer bar.Finish()

	batches := make(chan []Job)
	go func() {
		defer close(batches)
		size := max(gen.Batch(), 1)
		for i := 0; i < len(todo); i += size {
			select {
			case batches <- todo[i:min(i+size, len(todo))]:
			case <-ctx.Done():
				return
			}
		}
	}()
	var mu sync.Mutex
	var writeErr error
	var wg sync.WaitGroup
	for range max(gen.Workers(), 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				outs := gen.Generate(ctx, batch)
				mu.Lock()
				for i, o := range outs {
					if ctx.Err() != nil && o.Err != nil {
						continue // interrupted: leave it for --resume
					}
					line := append(pyjson.Append(nil, opt.Row(batch[i], o), nil), '\n')
					if _, err := w.Write(line); err != nil && writeErr == nil {
						writeErr = err
					}
					bar.Add(1)
				}
				if err := w.Flush(); err != nil && writeErr == nil {
					writeErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if writeErr != nil {
		return fmt.Errorf("write %s: %w", opt.Path, writeErr)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", opt.Path, err)
	}
	return ctx.Err()
}

// keepAnswered rewrites path (atomically) with its complete, successful
// rows and records their ids.
func keepAnswered(path string, done map[string]bool) error {
	r, err := jsonl.Open(path)
	if err != nil {
		return err
	}
	var keep [][]byte
	for r.Next() {
		o, err := r.Object()
		if err != nil {
			var je *jsonl.Error
			if errors.As(err, &je) {
				continue // a torn line from an interrupted run
			}
			r.Close()
			return err
		}
		id, _ := o.Get("id")
		s, ok := id.(string)
		if !ok || o.Has("inference_error") {
			continue
		}
		done[s] = true
		keep = append(keep, append([]byte(nil), r.Bytes()...))
	}
	r.Close()
	if err := r.Err(); err != nil {
		return err
	}
	w, err := jsonl.Create(path)
	if err != nil {
		return err
	}
	for _, line := range keep {
		if err := w.WriteRaw(line); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// Row is the common responses row: {id, result} plus the output's extra
// fields, or {id, result: "Error during inference: ...", inference_error}.
func Row(j Job, o Output) *pyjson.Object {
	if o.Err != nil {
		return pyjson.NewObject("id", j.ID, "result", "Error during inference: "+o.Err.Error(), "inference_error", true)
	}
	row := pyjson.NewObject("id", j.ID, "result", o.Text)
	for _, m := range o.Extra {
		row.Set(m.Key, m.Value)
	}
	return row
}
