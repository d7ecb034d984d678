package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/parallel"
	"github.com/star-go/star/internal/progress"
	"github.com/star-go/star/internal/pyjson"
)

// recordStream is the common shape of the per-record commands: read JSONL,
// transform each record on every core, write results in input order, send
// failures to a rejects file, show progress, end with a one-line summary.
type recordStream struct {
	label   string // for progress and the summary
	in, out string
	rejects string // "" keeps only counts
	// fn turns one decoded line into the values to write (nil for none).
	// A returned error rejects the record; *jsonl.FieldError names the field.
	fn func(v any) ([]any, error)
}

type lineItem struct {
	line int
	raw  []byte
}

type lineResult struct {
	out []byte // encoded output lines, each ending in '\n'
	err error
}

const batchLines = 512

func (s *recordStream) run(ctx context.Context) error {
	rd, err := jsonl.Open(s.in)
	if err != nil {
		return err
	}
	defer rd.Close()
	w, err := jsonl.Create(s.out)
	if err != nil {
		return err
	}
	rejects, err := jsonl.NewRejects(s.rejects)
	if err != nil {
		w.Abort()
		return err
	}
	_, size := rd.Progress()
	bar := progress.New(s.label, size, "B")
	records := 0
	fail := func(err error) error {
		w.Abort()
		rejects.Close()
		bar.Finish()
		return err
	}
	batch := make([]lineItem, 0, batchLines)
	flush := func() error {
		results := parallel.Map(0, batch, func(_ int, it lineItem) lineResult {
			v, err := jsonl.ParseLine(s.in, it.line, it.raw)
			if err != nil {
				return lineResult{err: err}
			}
			vals, err := s.fn(v)
			if err != nil {
				return lineResult{err: err}
			}
			// Encode here, on the worker, so the ordered writer only copies bytes.
			var out []byte
			for _, v := range vals {
				out = append(pyjson.Append(out, v, nil), '\n')
			}
			return lineResult{out: out}
		})
		for i, r := range results {
			if r.err != nil {
				if err := rejects.Add(jsonl.At(rd.Name(), batch[i].line, r.err), batch[i].raw); err != nil {
					return err
				}
				continue
			}
			if err := w.WriteLines(r.out); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	for rd.Next() {
		batch = append(batch, lineItem{rd.Line(), append([]byte(nil), rd.Bytes()...)})
		records++
		if len(batch) == batchLines {
			if ctx.Err() != nil {
				return fail(ctx.Err())
			}
			if err := flush(); err != nil {
				return fail(err)
			}
			done, _ := rd.Progress()
			bar.Set(done, int64(records))
		}
	}
	if err := rd.Err(); err != nil {
		return fail(err)
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	if records == 0 {
		return fail(fmt.Errorf("%s: no records (empty file)", rd.Name()))
	}
	done, _ := rd.Progress()
	bar.Set(done, int64(records))
	bar.Finish()
	if err := w.Close(); err != nil {
		return fail(err)
	}
	if err := rejects.Close(); err != nil {
		return err
	}
	el := bar.Elapsed()
	fmt.Fprintf(os.Stderr, "%s: %d records, %d written, %s; %s, %.0f rec/s, %.1f MB/s\n",
		s.label, records, w.Count(), rejects.Summary(), el.Round(time.Millisecond),
		float64(records)/el.Seconds(), float64(done)/el.Seconds()/1e6)
	if rejects.Total() > 0 && s.rejects != "" {
		fmt.Fprintf(os.Stderr, "%s: rejected records with reasons are in %s\n", s.label, s.rejects)
	}
	return nil
}

// modelAndInput checks the arguments of a per-record command that needs
// --model DIR and reads at most one input file, and returns that file ("-",
// stdin, when none is given).
func modelAndInput(fs *flag.FlagSet, pos []string, modelDir string) (string, error) {
	if modelDir == "" || len(pos) > 1 {
		fs.Usage()
		return "", fmt.Errorf("%w: need --model DIR and at most one input file", errUsage)
	}
	if len(pos) == 1 {
		return pos[0], nil
	}
	return "-", nil
}
