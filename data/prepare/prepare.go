// Package prepare reproduces STAR's prepare_rl_data.sh as one declarative,
// repeatable step: every source is converted to messages (with
// filter_on_simrl), labeled, stratified-sampled, merged and rendered into the
// Sim-RL training set. The shell original downloads and runs four scripts;
// here a small JSON config names the inputs so a run can be repeated exactly
// (same inputs and seed → byte-identical outputs) and every dropped record is
// accounted for in report.json and the per-source rejects files.
package prepare

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/convert"
	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/data/sample"
	"github.com/star-go/star/data/trainset"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/tokenizer"
)

// Config is the prepare config file:
//
//	{"model": "models/Qwen3-0.6B", "seed": 42, "max_prompt_tokens": 8192,
//	 "sources": [{"name": "xlam", "format": "xlam", "path": "raw/xlam.jsonl", "sample": 50000}, …]}
//
// Relative paths are relative to the config file's directory. "sample" 0 or
// absent keeps every record of the source; "name" defaults to the format.
type Config struct {
	Model           string
	Seed            uint64
	MaxPromptTokens int
	Sources         []Source
}

// Source is one input dataset.
type Source struct {
	Name, Format, Path string
	Sample             int
}

// Load reads and validates a config; errors name the offending field.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := pyjson.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	c, err := parse(v, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func parse(v any, dir string) (*Config, error) {
	o, ok := v.(*pyjson.Object)
	if !ok {
		return nil, jsonl.Errorf("", "config is %s, want an object", jsonl.TypeName(v))
	}
	c := &Config{Seed: 42, MaxPromptTokens: 8192}
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for _, k := range o.Keys() {
		val, _ := o.Get(k)
		switch k {
		case "model":
			s, ok := val.(string)
			if !ok || s == "" {
				return nil, jsonl.Errorf(k, "is %s, want a directory path", jsonl.TypeName(val))
			}
			c.Model = rel(s)
		case "seed", "max_prompt_tokens":
			n, ok := val.(int64)
			if !ok || n < 0 {
				return nil, jsonl.Errorf(k, "is %s, want a non-negative integer", pyjson.Repr(val))
			}
			if k == "seed" {
				c.Seed = uint64(n)
			} else {
				c.MaxPromptTokens = int(n)
			}
		case "sources":
			list, ok := val.([]any)
			if !ok || len(list) == 0 {
				return nil, jsonl.Errorf(k, "is %s, want a non-empty array", jsonl.TypeName(val))
			}
			seen := map[string]bool{}
			for i, sv := range list {
				s, err := parseSource(sv, fmt.Sprintf("sources[%d]", i), rel)
				if err != nil {
					return nil, err
				}
				if seen[s.Name] {
					return nil, jsonl.Errorf(fmt.Sprintf("sources[%d].name", i), "%q used twice (names the output files)", s.Name)
				}
				seen[s.Name] = true
				c.Sources = append(c.Sources, s)
			}
		default:
			return nil, jsonl.Errorf(k, "unknown field (want model, seed, max_prompt_tokens, sources)")
		}
	}
	if c.Model == "" {
		return nil, jsonl.Errorf("model", "missing (an HF model directory: chat template and tokenizer)")
	}
	if c.Sources == nil {
		return nil, jsonl.Errorf("sources", "missing")
	}
	return c, nil
}

func parseSource(v any, f string, rel func(string) string) (Source, error) {
	o, ok := v.(*pyjson.Object)
	if !ok {
		return Source{}, jsonl.Errorf(f, "is %s, want an object", jsonl.TypeName(v))
	}
	var s Source
	for _, k := range o.Keys() {
		val, _ := o.Get(k)
		switch k {
		case "name", "format", "path":
			str, ok := val.(string)
			if !ok || str == "" {
				return s, jsonl.Errorf(f+"."+k, "is %s, want a non-empty string", jsonl.TypeName(val))
			}
			switch k {
			case "name":
				if filepath.Base(str) != str || str[0] == '.' {
					return s, jsonl.Errorf(f+"."+k, "%q is not a plain file name", str)
				}
				s.Name = str
			case "format":
				if _, err := convert.Lookup(str); err != nil {
					return s, jsonl.Errorf(f+"."+k, "%v", err)
				}
				s.Format = str
			case "path":
				s.Path = rel(str)
			}
		case "sample":
			n, ok := val.(int64)
			if !ok || n < 0 {
				return s, jsonl.Errorf(f+"."+k, "is %s, want a non-negative integer", pyjson.Repr(val))
			}
			s.Sample = int(n)
		default:
			return s, jsonl.Errorf(f+"."+k, "unknown field (want name, format, path, sample)")
		}
	}
	if s.Format == "" {
		return s, jsonl.Errorf(f+".format", "missing")
	}
	if s.Path == "" {
		return s, jsonl.Errorf(f+".path", "missing")
	}
	if s.Name == "" {
		s.Name = s.Format
	}
	return s, nil
}

// Run executes the pipeline into dir:
//
//	<name>.converted.jsonl  converted, filtered messages of each source
//	<name>.rejects.jsonl    its rejected records with file, line and reason
//	messages.jsonl          the merged sample, messages with labels
//	train.jsonl             the Sim-RL set {id, inputs, targets}
//	report.json             counts per source and category, rejects by reason
//
// Each source is sampled with its own generator seeded with Seed, so adding
// a source does not change what the others contribute.
func Run(ctx context.Context, c *Config, dir string, logf func(string, ...any)) (*pyjson.Object, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmpl, err := chat.Load(c.Model)
	if err != nil {
		return nil, err
	}
	var tok *tokenizer.Tokenizer
	if c.MaxPromptTokens > 0 {
		if tok, err = tokenizer.Load(c.Model); err != nil {
			return nil, err
		}
	}
	builder := &trainset.Builder{Template: tmpl}
	filter := convert.NewFilter(tmpl)
	sources := pyjson.NewObject()
	var merged []*pyjson.Object
	var rows []trainset.Row
	for _, s := range c.Sources {
		conv := filepath.Join(dir, s.Name+".converted.jsonl")
		st, err := convert.Run(ctx, convert.Options{Format: s.Format, In: s.Path, Out: conv,
			Rejects: filepath.Join(dir, s.Name+".rejects.jsonl"), Filter: filter})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		logf("%s: %d records → %d converted, %d rejected", s.Name, st.Records, st.Written, st.Rejected)
		recs, err := readAll(conv)
		if err != nil {
			return nil, err
		}
		prompts := map[*pyjson.Object]trainset.Row{}
		for _, r := range recs {
			if err := sample.Annotate(r); err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			mr, err := message.Parse(r)
			if err != nil {
				return nil, err
			}
			row, err := builder.Build(mr)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			prompts[r] = row
		}
		opt := sample.Options{N: s.Sample, Seed: c.Seed, MaxPromptTokens: c.MaxPromptTokens}
		if tok != nil {
			opt.PromptTokens = func(r *pyjson.Object) (int, error) { return len(tok.Encode(prompts[r].Inputs)), nil }
		}
		res, err := sample.Draw(recs, opt)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		for _, r := range res.Records {
			merged = append(merged, r)
			rows = append(rows, prompts[r])
		}
		rej := pyjson.NewObject()
		for _, rc := range st.Reasons {
			rej.Set(rc.Reason, int64(rc.Count))
		}
		sources.Set(s.Name, pyjson.NewObject("format", s.Format, "records", int64(st.Records),
			"converted", int64(st.Written), "rejected", int64(st.Rejected), "rejects_by_reason", rej,
			"sample_size", int64(s.Sample), "sampling", res.Counts()))
	}
	if err := writeAll(filepath.Join(dir, "messages.jsonl"), len(merged), func(i int) any { return merged[i] }); err != nil {
		return nil, err
	}
	if err := writeAll(filepath.Join(dir, "train.jsonl"), len(rows), func(i int) any { return rows[i].Object() }); err != nil {
		return nil, err
	}
	report := pyjson.NewObject("seed", int64(c.Seed), "max_prompt_tokens", int64(c.MaxPromptTokens),
		"train_records", int64(len(rows)), "sources", sources)
	var buf bytes.Buffer
	buf.Write(pyjson.AppendIndent(nil, report, "  ", false))
	buf.WriteByte('\n')
	if err := os.WriteFile(filepath.Join(dir, "report.json"), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return report, nil
}

func readAll(path string) ([]*pyjson.Object, error) {
	rd, err := jsonl.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var out []*pyjson.Object
	for rd.Next() {
		o, err := rd.Object()
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rd.Err()
}

func writeAll(path string, n int, at func(int) any) error {
	w, err := jsonl.Create(path)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := w.Write(at(i)); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}
