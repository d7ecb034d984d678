package world

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/data/message"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/tokenizer"
)

// Template is the Qwen3 chat template the demo's models use.
func Template() (*chat.Template, error) {
	return chat.Parse("qwen3_chat_template.jinja", tokenizer.Qwen3ChatTemplate)
}

// Render is the whole conversation of ex (prompt and answer, with its
// <think> block) as the chat template writes it.
func (ex *Example) Render(t *chat.Template) (string, error) {
	r, err := ex.Record()
	if err != nil {
		return "", err
	}
	s, err := t.Render(message.MessagesJSON(r.Messages), message.ToolsJSON(r.Tools), chat.Options{})
	if err != nil {
		return "", fmt.Errorf("world: %s: %w", ex.ID, err)
	}
	return s, nil
}

// Write writes the world to dir (each file atomically):
//
//	train.jsonl, rl.jsonl, test.jsonl     messages records (STAR-SPEC §1)
//	bfcl/BFCL_v3_<case>.json              the test split as BFCL questions
//	bfcl/possible_answer/BFCL_v3_<case>.json   and its possible answers (not irrelevance)
//	corpus.jsonl                          {"text"}: train records rendered with the chat template,
//	                                      then the lexicon (see Lexicon) once per train record
//	world.json                            settings, counts and the tool catalogue
func Write(dir string, w *World) error {
	for _, s := range []struct {
		name string
		exs  []*Example
	}{{Train, w.Train}, {RL, w.RL}, {Test, w.Test}} {
		err := writeLines(filepath.Join(dir, s.name+".jsonl"), s.exs, func(ex *Example) (any, error) {
			if _, err := ex.Record(); err != nil {
				return nil, err
			}
			return ex.Object(), nil
		})
		if err != nil {
			return err
		}
	}
	for _, cs := range Cases {
		var exs []*Example
		for _, ex := range w.Test {
			if ex.Case == cs {
				exs = append(exs, ex)
			}
		}
		name := "BFCL_v3_" + cs + ".json"
		if err := writeLines(filepath.Join(dir, "bfcl", name), exs, func(ex *Example) (any, error) { return ex.BFCLQuestion(), nil }); err != nil {
			return err
		}
		if cs == Irrelevance {
			continue
		}
		if err := writeLines(filepath.Join(dir, "bfcl", "possible_answer", name), exs, func(ex *Example) (any, error) { return ex.BFCLAnswer(), nil }); err != nil {
			return err
		}
	}
	tmpl, err := Template()
	if err != nil {
		return err
	}
	var corpus []string
	for _, ex := range w.Train {
		s, err := ex.Render(tmpl)
		if err != nil {
			return err
		}
		corpus = append(corpus, s)
	}
	// The lexicon, once per train record: as frequent as the prompt's own
	// words, so the tokenizer gives every value a call copies one token.
	// Copying one token is what a tiny model learns in minutes; copying a
	// run of letters needs induction heads and far longer training.
	if lex := strings.Join(w.Lexicon(), " "); lex != "" {
		for range w.Train {
			corpus = append(corpus, lex)
		}
	}
	if err := writeLines(filepath.Join(dir, "corpus.jsonl"), corpus, func(s string) (any, error) {
		return pyjson.NewObject("text", s), nil
	}); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "world.json"), w.Summary())
}

// Summary describes the world: settings, records per split and case, tools.
func (w *World) Summary() *pyjson.Object {
	c := w.Config
	counts := &pyjson.Object{}
	for _, s := range []struct {
		name string
		exs  []*Example
	}{{Train, w.Train}, {RL, w.RL}, {Test, w.Test}} {
		per := &pyjson.Object{}
		for _, cs := range Cases {
			n := 0
			for _, ex := range s.exs {
				if ex.Case == cs {
					n++
				}
			}
			per.Set(cs, int64(n))
		}
		counts.Set(s.name, per)
	}
	tools := make([]any, len(w.Tools))
	domains := map[string]bool{}
	for i, t := range w.Tools {
		tools[i] = t.Schema()
		domains[t.Domain] = true
	}
	return pyjson.NewObject(
		"seed", int64(c.Seed),
		"distractors", int64(c.Distractors),
		"max_parallel", int64(c.MaxParallel),
		"optional_rate", c.OptionalRate,
		"counts", counts,
		"domains", int64(len(domains)),
		"tools", tools,
	)
}

func writeLines[T any](path string, exs []T, f func(T) (any, error)) error {
	out, err := jsonl.Create(path)
	if err != nil {
		return fmt.Errorf("world: %w", err)
	}
	for _, ex := range exs {
		v, err := f(ex)
		if err == nil {
			err = out.Write(v)
		}
		if err != nil {
			out.Abort()
			return fmt.Errorf("world: %s: %w", path, err)
		}
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("world: %s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	tmp := path + ".tmp"
	data := append(pyjson.AppendIndent(nil, v, "  ", false), '\n')
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("world: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("world: %w", err)
	}
	return nil
}
