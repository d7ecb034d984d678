package main

import (
	"context"
	"fmt"

	"github.com/star-go/star/data/jsonl"
	"github.com/star-go/star/internal/pyjson"
	"github.com/star-go/star/tokenizer"
)

func init() {
	register(command{name: "tokenize", summary: "{text} → {ids} with the model's tokenizer (--decode: {ids} → {text})", run: runTokenize})
}

func runTokenize(ctx context.Context, args []string) error {
	fs := newFlags("tokenize", "--model DIR [--decode] [IN.jsonl] [-o OUT.jsonl]")
	modelDir := fs.String("model", "", "HF model directory (tokenizer.json)")
	decode := fs.Bool("decode", false, "decode {ids} to {text} instead")
	skipSpecial := fs.Bool("skip-special", false, "with --decode, drop special tokens")
	out := fs.String("o", "-", "output JSONL")
	rejects := fs.String("rejects", "", "write rejected records with reasons to this JSONL file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	in, err := modelAndInput(fs, pos, *modelDir)
	if err != nil {
		return err
	}
	tok, err := tokenizer.Load(*modelDir)
	if err != nil {
		return err
	}
	s := &recordStream{label: "tokenize", in: in, out: *out, rejects: *rejects}
	if *decode {
		s.fn = func(v any) ([]any, error) {
			ids, err := idsField(v, tok.VocabSize())
			if err != nil {
				return nil, err
			}
			var text string
			if *skipSpecial {
				text = tok.DecodeSkipSpecial(ids)
			} else {
				text = tok.Decode(ids)
			}
			return []any{pyjson.NewObject("text", text)}, nil
		}
	} else {
		s.fn = func(v any) ([]any, error) {
			o, _ := v.(*pyjson.Object)
			t, ok := o.Get("text")
			text, isStr := t.(string)
			if !ok || !isStr {
				return nil, jsonl.Errorf("text", "missing or not a string")
			}
			return []any{pyjson.NewObject("ids", tok.Encode(text))}, nil
		}
	}
	return s.run(ctx)
}

// idsField reads {"ids": [int, ...]} with every id inside the vocabulary.
func idsField(v any, vocab int) ([]int, error) {
	o, _ := v.(*pyjson.Object)
	raw, ok := o.Get("ids")
	list, isList := raw.([]any)
	if !ok || !isList {
		return nil, jsonl.Errorf("ids", "missing or not an array")
	}
	ids := make([]int, len(list))
	for i, x := range list {
		n, ok := x.(int64)
		if !ok || n < 0 || n >= int64(vocab) {
			return nil, jsonl.Errorf(fmt.Sprintf("ids[%d]", i), "%s is not a token id in [0, %d)", pyjson.MarshalString(x), vocab)
		}
		ids[i] = int(n)
	}
	return ids, nil
}
