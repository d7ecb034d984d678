package convert

import (
	"context"
	"fmt"
	"io"
	"strings"

	"time"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/data/trainset"
	"github.com/star-go/star/internal/parallel"
	"github.com/star-go/star/internal/progress"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/reward"
)

// Filter is STAR's filter_on_simrl: a converted record is kept only if its
// target, rendered with the chat template, scores > 0.99 under the Sim-RL
// reward against itself. This drops what the reward cannot score well even
// when the model is perfect: unknown tool names, argument names outside the
// tool's parameters, unparseable calls and empty targets.
type Filter struct {
	b trainset.Builder
}

// NewFilter renders prompts with t.
func NewFilter(t *chat.Template) *Filter { return &Filter{b: trainset.Builder{Template: t}} }

// Threshold is the self-score a record must exceed.
const Threshold = 0.99

// Check returns nil when rec passes, else a *jsonl.FieldError saying why.
func (f *Filter) Check(rec *pyjson.Object) error {
	r, err := message.Parse(rec)
	if err != nil {
		return err
	}
	// The reward scores an empty target's "<|im_end|>" as a text reply equal
	// to itself, so it would pass; the spec drops empty targets explicitly.
	if last := r.Last(); len(last.ToolCalls) == 0 && strings.TrimSpace(last.Text()) == "" {
		return jsonl.Errorf("messages", "filter_on_simrl: empty target (no content and no tool calls)")
	}
	row, err := f.b.Build(r)
	if err != nil {
		return err
	}
	res, err := reward.Score(row.Inputs, row.Targets, row.Targets)
	if err != nil {
		return jsonl.Errorf("", "filter_on_simrl: reward cannot score the target: %v", err)
	}
	if !(res.Reward > Threshold) {
		return jsonl.Errorf("", "filter_on_simrl: target scores %q against itself (need > 0.99)", fmt.Sprint(res.Reward))
	}
	return nil
}

// Options configure Run.
type Options struct {
	Format  string
	In, Out string
	Rejects string  // "" keeps only counts
	Filter  *Filter // nil: no filter_on_simrl
	Label   string  // progress label; "" for no progress bar
	Workers int     // 0: all cores
}

// Stats are the counts of one Run.
type Stats struct {
	Records  int                 // input records
	Written  int                 // output records
	Rejected int                 // rejected input records and filtered samples
	Reasons  []jsonl.ReasonCount // rejects by reason category
	Elapsed  time.Duration
	Bytes    int64
}

type item struct {
	index, line int
	raw         []byte
}

type result struct {
	out      []*pyjson.Object
	err      error
	filtered []error // per dropped sample, aligned with dropped
	dropped  []*pyjson.Object
}

// Run converts the JSONL file In to Out, in input order, with rejects (each
// with file, line and reason) in Rejects. Records are converted on all cores.
func Run(ctx context.Context, opt Options) (Stats, error) {
	conv, err := Lookup(opt.Format)
	if err != nil {
		return Stats{}, err
	}
	rd, err := jsonl.Open(opt.In)
	if err != nil {
		return Stats{}, err
	}
	defer rd.Close()
	w, err := jsonl.Create(opt.Out)
	if err != nil {
		return Stats{}, err
	}
	rejects, err := jsonl.NewRejects(opt.Rejects)
	if err != nil {
		w.Abort()
		return Stats{}, err
	}
	var bar *progress.Bar
	if opt.Label != "" {
		_, size := rd.Progress()
		bar = progress.New(opt.Label, size, "B")
	}
	start := time.Now()
	st := Stats{}
	fail := func(err error) (Stats, error) {
		w.Abort()
		rejects.Close()
		if bar != nil {
			bar.Finish()
		}
		return st, err
	}
	const batchSize = 512
	batch := make([]item, 0, batchSize)
	flush := func() error {
		res := parallel.Map(opt.Workers, batch, func(_ int, it item) result {
			v, err := jsonl.ParseLine(opt.In, it.line, it.raw)
			if err != nil {
				return result{err: err}
			}
			out, err := conv(it.index, v)
			if err != nil || opt.Filter == nil {
				return result{out: out, err: err}
			}
			var r result
			for _, o := range out {
				if err := opt.Filter.Check(o); err != nil {
					r.filtered = append(r.filtered, err)
					r.dropped = append(r.dropped, o)
					continue
				}
				r.out = append(r.out, o)
			}
			return r
		})
		for i, r := range res {
			if r.err != nil {
				if err := rejects.Add(jsonl.At(rd.Name(), batch[i].line, r.err), batch[i].raw); err != nil {
					return err
				}
				continue
			}
			for k, e := range r.filtered {
				if err := rejects.Add(jsonl.At(rd.Name(), batch[i].line, e), pyjson.Marshal(r.dropped[k])); err != nil {
					return err
				}
			}
			for _, o := range r.out {
				if err := w.Write(o); err != nil {
					return err
				}
			}
		}
		batch = batch[:0]
		return nil
	}
	for rd.Next() {
		batch = append(batch, item{st.Records, rd.Line(), append([]byte(nil), rd.Bytes()...)})
		st.Records++
		if len(batch) == batchSize {
			if ctx.Err() != nil {
				return fail(ctx.Err())
			}
			if err := flush(); err != nil {
				return fail(err)
			}
			if bar != nil {
				done, _ := rd.Progress()
				bar.Set(done, int64(st.Records))
			}
		}
	}
	if err := rd.Err(); err != nil {
		return fail(err)
	}
	if err := flush(); err != nil {
		return fail(err)
	}
	if st.Records == 0 {
		return fail(fmt.Errorf("%s: no records (empty file)", rd.Name()))
	}
	st.Bytes, _ = rd.Progress()
	if bar != nil {
		bar.Set(st.Bytes, int64(st.Records))
		bar.Finish()
	}
	if err := w.Close(); err != nil {
		return fail(err)
	}
	if err := rejects.Close(); err != nil {
		return st, err
	}
	st.Written = w.Count()
	st.Rejected = rejects.Total()
	st.Reasons = rejects.Counts()
	st.Elapsed = time.Since(start)
	return st, nil
}

// Print writes a summary: records, kept, rejected by reason, throughput.
func (s Stats) Print(w io.Writer, label string) {
	fmt.Fprintf(w, "%s: %d records → %d written, %d rejected; %s, %.0f rec/s, %.1f MB/s\n",
		label, s.Records, s.Written, s.Rejected, s.Elapsed.Round(time.Millisecond),
		float64(s.Records)/s.Elapsed.Seconds(), float64(s.Bytes)/s.Elapsed.Seconds()/1e6)
	for _, r := range s.Reasons {
		fmt.Fprintf(w, "  %6d  %s\n", r.Count, r.Reason)
	}
}
