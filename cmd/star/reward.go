package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/reward"
)

func init() {
	register(
		command{name: "reward score", summary: "Sim-RL reward of {prompt, label, generation} or {query, prompt, label} records", run: runRewardScore},
		command{name: "reward serve", summary: "the Sim-RL reward as an OpenRLHF remote reward service (HTTP)", run: runRewardServe},
	)
}

func runRewardScore(ctx context.Context, args []string) error {
	fs := newFlags("reward score", "IN.jsonl [-o OUT.jsonl] [--rejects FILE]")
	out := fs.String("o", "-", "output JSONL (- for stdout)")
	rejects := fs.String("rejects", "", "write rejected records with reasons to this JSONL file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: need one input file (- for stdin)", errUsage)
	}
	s := &recordStream{label: "reward score", in: pos[0], out: *out, rejects: *rejects, fn: scoreRecord}
	return s.run(ctx)
}

// scoreRecord adds reward, answer_score and format_score to a record
// {prompt, label, generation} or {query, prompt, label}, typed as the
// original returns them (1 and 1.0 differ).
func scoreRecord(v any) ([]any, error) {
	o, ok := v.(*pyjson.Object)
	if !ok {
		return nil, jsonl.Errorf("", "record is a %s, not an object", jsonl.TypeName(v))
	}
	str := func(k string) (string, error) {
		x, ok := o.Get(k)
		if !ok {
			return "", jsonl.Errorf(k, "missing")
		}
		s, ok := x.(string)
		if !ok {
			return "", jsonl.Errorf(k, "want a string, got %s", jsonl.TypeName(x))
		}
		return s, nil
	}
	prompt, err := str("prompt")
	if err != nil {
		return nil, err
	}
	label, err := str("label")
	if err != nil {
		return nil, err
	}
	var res reward.Result
	if o.Has("query") {
		q, err := str("query")
		if err != nil {
			return nil, err
		}
		res, err = reward.ScoreQuery(q, prompt, label)
		if err != nil {
			return nil, rewardFieldError(err)
		}
	} else {
		gen, err := str("generation")
		if err != nil {
			return nil, jsonl.Errorf("generation", "missing (or give query)")
		}
		res, err = reward.Score(prompt, label, gen)
		if err != nil {
			return nil, rewardFieldError(err)
		}
	}
	rw, an, fo := res.Values()
	o.Set("reward", rw)
	o.Set("answer_score", an)
	o.Set("format_score", fo)
	return []any{o}, nil
}

func rewardFieldError(err error) error {
	if ie, ok := err.(*reward.InputError); ok {
		return jsonl.Errorf(ie.Field, "%s (the original reward raises here)", ie.Msg)
	}
	return err
}

func runRewardServe(ctx context.Context, args []string) error {
	fs := newFlags("reward serve", "[--addr 127.0.0.1:8000] [--max-body-mb 64] [--timeout 60s] [--workers N] [--quiet]")
	addr := fs.String("addr", "127.0.0.1:8000", "listen address (host:port; :0 picks a free port)")
	maxMB := fs.Int("max-body-mb", 64, "request body limit in MiB")
	timeout := fs.Duration("timeout", 60*time.Second, "per-request limit, reading and scoring")
	workers := fs.Int("workers", 0, "cores one batch may use (0: all)")
	inflight := fs.Int("max-in-flight", 0, "requests scored at once, others wait (0: 4 per core)")
	quiet := fs.Bool("quiet", false, "no per-request log lines")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	if *maxMB <= 0 || *timeout <= 0 {
		return fmt.Errorf("%w: --max-body-mb and --timeout must be positive", errUsage)
	}
	svc := &reward.Service{
		MaxBodyBytes: int64(*maxMB) << 20,
		Timeout:      *timeout,
		Workers:      *workers,
		MaxInFlight:  *inflight,
	}
	if !*quiet {
		svc.Log = log.New(os.Stderr, "reward serve: ", log.LstdFlags)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "reward serve: listening on http://%s (POST /reward, GET /health); Ctrl-C stops\n", ln.Addr())
	if err := svc.Serve(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "reward serve: stopped")
	return nil
}
