// Package rollout is STAR's teacher rollout (teacher_rollout.py, STAR-SPEC
// §5): each record's prompt is rendered with the chat template (thinking
// on), the teacher samples N completions of it, the valid ones are kept and
// deduplicated, and each unique completion becomes a record whose last
// message is replaced by it. The teacher is any OpenAI-compatible
// /v1/completions endpoint (Endpoint) or a model in this process (Engine).
//
// Output is written in input order as records finish, so a killed run keeps
// everything before the first unfinished record and Resume continues after
// it, skipping every id already in the output (or rejected for a reason that
// would recur).
package rollout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/internal/progress"
	"github.com/star-go/star/internal/pyjson"
)

// Config configures Run.
type Config struct {
	In  string // JSONL messages records ("-": stdin)
	Out string // JSONL output ("-": stdout, no resume)
	// Rejects receives the records that produced nothing, with each
	// completion's reason ("": counts only).
	Rejects  string
	Template *chat.Template
	Gen      Generator
	N        int // completions per record (default 8)
	// Concurrency is how many records are in flight (default 1). Requests
	// are further bounded by the endpoint client's own limit.
	Concurrency int
	// Resume appends to an existing Out (and Rejects), skipping records
	// whose id is already there. Without it an existing non-empty Out is an
	// error, so that a finished rollout is never overwritten by mistake.
	Resume bool
	// MaxFailures aborts the run after this many records in a row whose
	// requests failed (the teacher is down; default 8, <0: never).
	MaxFailures int
	// Progress gets the progress line (nil: stderr; io.Discard: none).
	Progress io.Writer
}

// Summary counts what a run did.
type Summary struct {
	Records     int // input records read
	Skipped     int // already done (Resume)
	PassThrough int // last message not an assistant turn: written as is
	Sampled     int // records sent to the teacher
	Accepted    int // records with at least one kept completion
	Written     int // output records
	Rejected    int // records in the rejects file (or that would be)
	// Completions sampled, Kept (unique and valid), Duplicates (valid but
	// equal to an earlier one of the same prompt).
	Completions, Kept, Duplicates int
	Discarded                     map[string]int // invalid completions by reason category
	RejectReasons                 map[string]int // rejected records by reason category
}

// String is the one-line summary printed at the end of a run.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d records: %d sampled, %d accepted, %d passed through, %d skipped (resume), %d rejected; %d records written; "+
		"%d completions: %d kept, %d duplicates, %d invalid",
		s.Records, s.Sampled, s.Accepted, s.PassThrough, s.Skipped, s.Rejected, s.Written,
		s.Completions, s.Kept, s.Duplicates, total(s.Discarded))
	return b.String()
}

// Reasons lists counts by reason, most frequent first: "  reason: n" lines.
func Reasons(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var list []kv
	for k, n := range m {
		list = append(list, kv{k, n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].k < list[j].k
	})
	var b strings.Builder
	for _, e := range list {
		fmt.Fprintf(&b, "  %6d  %s\n", e.n, e.k)
	}
	return b.String()
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// item is one input line on its way through the pipeline.
type item struct {
	line, index int
	offset      int64 // input bytes read up to this line, for progress
	raw         []byte
	obj         *pyjson.Object
	rec         *message.Record
	done        chan struct{}
	res         outcome
}

// outcome is what one record produced.
type outcome struct {
	err        error  // cancellation: stop writing here
	lines      []byte // output records, one per line
	written    int
	reject     *pyjson.Object // the rejects-file entry, if rejected
	reason     string         // why rejected
	skipped    bool
	pass       bool
	sampled    bool
	failed     bool // the request failed
	kept, dups int
	discards   []discard
}

type discard struct {
	reason, text string
}

// Run rolls out every record of cfg.In.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.N <= 0 {
		cfg.N = 8
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.MaxFailures == 0 {
		cfg.MaxFailures = 8
	}
	if cfg.Template == nil || cfg.Gen == nil {
		return nil, errors.New("rollout: a chat template and a generator are required")
	}
	done := map[string]bool{}
	out, err := openOut(cfg.Out, cfg.Resume, done, false)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	var rej *os.File
	if cfg.Rejects != "" {
		if rej, err = openOut(cfg.Rejects, cfg.Resume, done, true); err != nil {
			return nil, err
		}
		defer rej.Close()
	}
	rd, err := jsonl.Open(cfg.In)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	_, size := rd.Progress()
	pw := cfg.Progress
	if pw == nil {
		pw = os.Stderr
	}
	bar := progress.NewWriter(pw, "rollout", size, "B")
	defer bar.Finish()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	window := 4*cfg.Concurrency + 16
	order := make(chan *item, window)
	work := make(chan *item)
	var readErr error
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(work)
		for index := 0; rd.Next(); index++ {
			off, _ := rd.Progress()
			it := &item{line: rd.Line(), index: index, offset: off, raw: bytes.Clone(rd.Bytes()), done: make(chan struct{})}
			select {
			case order <- it:
			case <-ctx.Done():
				return
			}
			if !cfg.prepare(it, done) {
				close(it.done)
				continue
			}
			select {
			case work <- it:
			case <-ctx.Done():
				it.res.err = ctx.Err()
				close(it.done)
				return
			}
		}
		readErr = rd.Err()
	}()
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				cfg.sample(ctx, it)
				close(it.done)
			}
		}()
	}

	sum := &Summary{Discarded: map[string]int{}, RejectReasons: map[string]int{}}
	failures := 0
	for it := range order {
		<-it.done
		r := &it.res
		if r.err != nil {
			cancel()
			return sum, r.err
		}
		sum.Records++
		if len(r.lines) > 0 {
			if _, err := out.Write(r.lines); err != nil {
				cancel()
				return sum, fmt.Errorf("write %s: %w", cfg.Out, err)
			}
		}
		if r.reject != nil {
			sum.Rejected++
			sum.RejectReasons[jsonl.Category(r.reason)]++
			if rej != nil {
				line := append(pyjson.Append(nil, r.reject, nil), '\n')
				if _, err := rej.Write(line); err != nil {
					cancel()
					return sum, fmt.Errorf("write %s: %w", cfg.Rejects, err)
				}
			}
		}
		sum.Written += r.written
		switch {
		case r.skipped:
			sum.Skipped++
		case r.pass:
			sum.PassThrough++
		case r.sampled:
			sum.Sampled++
		}
		if r.kept > 0 {
			sum.Accepted++
		}
		sum.Kept += r.kept
		sum.Duplicates += r.dups
		if r.sampled && !r.failed {
			sum.Completions += r.kept + r.dups + len(r.discards)
		}
		for _, d := range r.discards {
			sum.Discarded[jsonl.Category(d.reason)]++
		}
		if r.failed {
			failures++
			if cfg.MaxFailures > 0 && failures >= cfg.MaxFailures {
				cancel()
				return sum, fmt.Errorf("rollout: stopping after %d records in a row whose requests failed; the last: %s (--resume continues)",
					failures, r.reason)
			}
		} else if r.sampled {
			failures = 0
		}
		bar.Note(fmt.Sprintf("accepted %d, written %d, discarded %d, rejected %d", sum.Accepted, sum.Written, total(sum.Discarded), sum.Rejected))
		bar.Set(it.offset, int64(sum.Records))
	}
	if readErr != nil {
		return sum, readErr
	}
	if err := out.Sync(); err != nil && cfg.Out != "-" {
		return sum, fmt.Errorf("write %s: %w", cfg.Out, err)
	}
	if rej != nil {
		if err := rej.Sync(); err != nil {
			return sum, fmt.Errorf("write %s: %w", cfg.Rejects, err)
		}
	}
	if sum.Records == 0 {
		return sum, fmt.Errorf("%s: no records (empty file)", rd.Name())
	}
	return sum, nil
}

// prepare parses the record and settles it when no sampling is needed; it
// reports whether the record goes to the teacher.
func (cfg *Config) prepare(it *item, done map[string]bool) bool {
	r := &it.res
	v, err := jsonl.ParseLine(cfg.In, it.line, it.raw)
	it.obj, _ = v.(*pyjson.Object)
	if cfg.Resume && it.obj != nil {
		id, ok := it.obj.Get("id")
		if !ok || id == nil {
			cfg.rejectRecord(it, &jsonl.Error{File: cfg.In, Line: it.line, Field: "id", Reason: "missing: --resume needs an id on every record"}, nil)
			return false
		}
		if done[idKey(id)] {
			r.skipped = true
			return false
		}
	}
	if err == nil {
		it.rec, err = message.Parse(v)
	}
	if err != nil {
		cfg.rejectRecord(it, jsonl.At(cfg.In, it.line, err), nil)
		return false
	}
	if it.rec.Last().Role != message.Assistant {
		r.pass = true
		r.lines = append(pyjson.Append(nil, it.obj, nil), '\n')
		r.written = 1
		return false
	}
	return true
}

// sample asks the teacher for the record's completions and keeps the good ones.
func (cfg *Config) sample(ctx context.Context, it *item) {
	r := &it.res
	r.sampled = true
	rec := it.rec
	var tools []any
	if len(rec.Tools) > 0 {
		tools = message.ToolsJSON(rec.Tools)
	}
	on := true
	prompt, err := cfg.Template.Render(message.MessagesJSON(rec.Messages[:len(rec.Messages)-1]), tools,
		chat.Options{AddGenerationPrompt: true, EnableThinking: &on})
	if err != nil {
		cfg.rejectRecord(it, &jsonl.Error{File: cfg.In, Line: it.line, Field: "messages", Reason: "chat template: " + err.Error()}, nil)
		return
	}
	comps, err := cfg.Gen.Generate(ctx, Request{Index: it.index, Prompt: prompt, N: cfg.N})
	if err != nil {
		if ctx.Err() != nil {
			r.err = ctx.Err()
			return
		}
		r.failed = true
		cfg.rejectRecord(it, &jsonl.Error{File: cfg.In, Line: it.line, Field: "request", Reason: err.Error()}, nil)
		return
	}
	params := ToolsOf(rec.Tools)
	seen := make(map[string]bool, len(comps))
	msgs, _ := it.obj.Get("messages")
	list := msgs.([]any)
	for _, c := range comps {
		m, reason := Check(c, params)
		if reason != "" {
			r.discards = append(r.discards, discard{reason, c.Text})
			continue
		}
		k := dedupKey(m)
		if seen[k] {
			r.dups++
			continue
		}
		seen[k] = true
		r.kept++
		nm := Message(m)
		newMsgs := append(append(make([]any, 0, len(list)), list[:len(list)-1]...), nm.Object())
		o := &pyjson.Object{Members: make([]pyjson.Member, len(it.obj.Members))}
		copy(o.Members, it.obj.Members)
		o.Set("messages", newMsgs)
		r.lines = append(pyjson.Append(r.lines, o, nil), '\n')
		r.written++
	}
	if r.kept == 0 {
		counts := map[string]int{}
		var order []string
		for _, d := range r.discards {
			if counts[d.reason] == 0 {
				order = append(order, d.reason)
			}
			counts[d.reason]++
		}
		parts := make([]string, len(order))
		for i, k := range order {
			parts[i] = fmt.Sprintf("%d× %s", counts[k], k)
		}
		reason := fmt.Sprintf("no valid completion of %d: %s", len(comps), strings.Join(parts, "; "))
		if len(comps) == 0 {
			reason = "the teacher returned no completions"
		}
		cfg.rejectRecord(it, &jsonl.Error{File: cfg.In, Line: it.line, Field: "completions", Reason: reason}, r.discards)
	}
}

// rejectRecord fills the rejects entry: file, line, id, field, reason, each
// completion's reason and text, and the record as read.
func (cfg *Config) rejectRecord(it *item, e *jsonl.Error, ds []discard) {
	r := &it.res
	var id any
	if it.obj != nil {
		id, _ = it.obj.Get("id")
	}
	o := pyjson.NewObject("file", e.File, "line", e.Line, "id", id, "field", e.Field, "reason", e.Reason)
	if ds != nil {
		list := make([]any, len(ds))
		for i, d := range ds {
			list[i] = pyjson.NewObject("reason", d.reason, "text", d.text)
		}
		o.Set("completions", list)
	}
	o.Set("record", strings.ToValidUTF8(string(it.raw), "\uFFFD"))
	r.reject = o
	r.reason = e.Reason
	if e.Field != "" {
		r.reason = e.Field + ": " + e.Reason
	}
}

// openOut opens an output file for appending. With resume it first reads
// the ids already there into done (for a rejects file, only entries whose
// failure would recur: not request failures) and cuts a torn last line.
func openOut(path string, resume bool, done map[string]bool, rejects bool) (*os.File, error) {
	if path == "-" || path == "" {
		if resume {
			return nil, errors.New("rollout: --resume needs an output file, not stdout")
		}
		return os.Stdout, nil
	}
	if !resume {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 && !rejects {
			return nil, fmt.Errorf("%s exists: pass --resume to continue it, or remove it", path)
		}
		return os.Create(path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	keep := bytes.LastIndexByte(data, '\n') + 1
	if keep < len(data) {
		// A record cut short by a kill: drop it, it will be redone.
		if err := f.Truncate(int64(keep)); err != nil {
			f.Close()
			return nil, err
		}
	}
	for n, line := range bytes.Split(data[:keep], []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v, err := pyjson.Unmarshal(line)
		o, ok := v.(*pyjson.Object)
		if err != nil || !ok {
			f.Close()
			return nil, fmt.Errorf("%s:%d: not a JSON object; cannot resume from this file", path, n+1)
		}
		if rejects {
			if field, _ := o.Get("field"); field == "request" {
				continue
			}
		}
		id, ok := o.Get("id")
		if !ok || id == nil {
			continue
		}
		done[idKey(id)] = true
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// idKey is a record id as text, the key --resume matches on.
func idKey(id any) string { return (&message.Record{ID: id}).IDString() }
