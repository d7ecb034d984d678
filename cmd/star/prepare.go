package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/convert"
	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/data/prepare"
	"github.com/star-go/star/data/sample"
	"github.com/star-go/star/data/trainset"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/tokenizer"
)

func init() {
	register(
		command{name: "data convert", summary: "raw XLAM/ToolACE/ToolMind/Hammer/OpenAI records → messages (filter_on_simrl)", run: runConvert},
		command{name: "data label", summary: "add labels (turns, tags, tool_call_num) to each assistant message", run: runLabel},
		command{name: "data sample", summary: "STAR's stratified sample of N records (Python-identical seed)", run: runSample},
		command{name: "data prepare", summary: "config → convert, label, sample, merge → Sim-RL train.jsonl + report.json", run: runPrepare},
	)
}

func runConvert(ctx context.Context, args []string) error {
	fs := newFlags("data convert", "--format F IN.jsonl -o OUT.jsonl [--rejects FILE] [--no-filter | --model DIR]")
	format := fs.String("format", "", "input format: "+strings.Join(convert.Formats, "|"))
	out := fs.String("o", "", "output JSONL (- for stdout)")
	rejects := fs.String("rejects", "", "write rejected records with reasons to this JSONL file")
	noFilter := fs.Bool("no-filter", false, "skip filter_on_simrl (output equals the original converters')")
	modelDir := fs.String("model", "", "HF model directory whose chat template filter_on_simrl renders with")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" || *format == "" {
		fs.Usage()
		return fmt.Errorf("%w: need --format F, IN and -o OUT", errUsage)
	}
	if _, err := convert.Lookup(*format); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	opt := convert.Options{Format: *format, In: pos[0], Out: *out, Rejects: *rejects, Label: "data convert"}
	if !*noFilter {
		if *modelDir == "" {
			fs.Usage()
			return fmt.Errorf("%w: filter_on_simrl needs --model DIR (its chat template); or pass --no-filter", errUsage)
		}
		tmpl, err := chat.Load(*modelDir)
		if err != nil {
			return err
		}
		opt.Filter = convert.NewFilter(tmpl)
	}
	st, err := convert.Run(ctx, opt)
	if err != nil {
		return err
	}
	st.Print(os.Stderr, "data convert")
	if st.Rejected > 0 && *rejects != "" {
		fmt.Fprintf(os.Stderr, "data convert: rejected records with reasons are in %s\n", *rejects)
	}
	return nil
}

func runLabel(ctx context.Context, args []string) error {
	fs := newFlags("data label", "IN.jsonl -o OUT.jsonl [--rejects FILE]")
	out := fs.String("o", "", "output JSONL (- for stdout)")
	rejects := fs.String("rejects", "", "write rejected records with reasons to this JSONL file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: need IN and -o OUT", errUsage)
	}
	s := &recordStream{label: "data label", in: pos[0], out: *out, rejects: *rejects,
		fn: func(v any) ([]any, error) {
			o, ok := v.(*pyjson.Object)
			if !ok {
				return nil, jsonl.Errorf("", "record is %s, want an object", jsonl.TypeName(v))
			}
			if err := sample.Annotate(o); err != nil {
				return nil, err
			}
			return []any{o}, nil
		}}
	return s.run(ctx)
}

func runSample(ctx context.Context, args []string) error {
	fs := newFlags("data sample", "IN.jsonl -o OUT.jsonl -n N [--seed 42] [--max-prompt-tokens 8192 --model DIR]")
	out := fs.String("o", "", "output JSONL (- for stdout)")
	n := fs.Int("n", 0, "sample size (0: keep every record, no quotas)")
	seed := fs.Uint64("seed", 42, "random.seed for the shuffle and the final sample")
	maxTok := fs.Int("max-prompt-tokens", 8192, "drop records whose prompt is longer (needs --model)")
	modelDir := fs.String("model", "", "HF model directory (chat template and tokenizer) to measure prompts")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" || *n < 0 {
		fs.Usage()
		return fmt.Errorf("%w: need IN, -o OUT and -n N ≥ 0", errUsage)
	}
	opt := sample.Options{N: *n, Seed: *seed}
	if *modelDir != "" && *maxTok > 0 {
		tmpl, err := chat.Load(*modelDir)
		if err != nil {
			return err
		}
		tok, err := tokenizer.Load(*modelDir)
		if err != nil {
			return err
		}
		opt.MaxPromptTokens = *maxTok
		opt.PromptTokens = func(o *pyjson.Object) (int, error) {
			r, err := message.Parse(o)
			if err != nil {
				return 0, err
			}
			in, err := trainset.Inputs(tmpl, r)
			if err != nil {
				return 0, err
			}
			return len(tok.Encode(in)), nil
		}
	} else {
		fmt.Fprintln(os.Stderr, "data sample: no --model: prompt lengths are not checked")
	}
	rd, err := jsonl.Open(pos[0])
	if err != nil {
		return err
	}
	defer rd.Close()
	var recs []*pyjson.Object
	for rd.Next() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		o, err := rd.Object()
		if err != nil {
			return err
		}
		recs = append(recs, o)
	}
	if err := rd.Err(); err != nil {
		return err
	}
	res, err := sample.Draw(recs, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	w, err := jsonl.Create(*out)
	if err != nil {
		return err
	}
	for _, r := range res.Records {
		if err := w.Write(r); err != nil {
			w.Abort()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	res.Table(os.Stderr)
	return nil
}

func runPrepare(ctx context.Context, args []string) error {
	fs := newFlags("data prepare", "CONFIG.json -o DIR")
	out := fs.String("o", "", "output directory")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: need CONFIG and -o DIR", errUsage)
	}
	cfg, err := prepare.Load(pos[0])
	if err != nil {
		return err
	}
	rep, err := prepare.Run(ctx, cfg, *out, func(f string, a ...any) { fmt.Fprintf(os.Stderr, "data prepare: "+f+"\n", a...) })
	if err != nil {
		return err
	}
	n, _ := rep.Get("train_records")
	fmt.Fprintf(os.Stderr, "data prepare: %v training records in %s/train.jsonl; counts in %s/report.json\n", n, *out, *out)
	return nil
}
