package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tinyJSON builds a small byte-level BPE tokenizer.json: the 256 byte tokens,
// the merges given (as "a b" strings) and the pre_tokenizer / model overrides.
func tinyJSON(t *testing.T, preTok any, merges []string, modelExtra map[string]any) map[string]any {
	t.Helper()
	vocab := map[string]int{}
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = b
	}
	for _, m := range merges {
		a, b, _ := strings.Cut(m, " ")
		if _, ok := vocab[a+b]; !ok {
			vocab[a+b] = len(vocab)
		}
	}
	model := map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": "",
		"end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "vocab": vocab, "merges": merges}
	for k, v := range modelExtra {
		model[k] = v
	}
	return map[string]any{
		"version":       "1.0",
		"added_tokens":  []any{map[string]any{"id": 1000, "content": "<|eot|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}},
		"normalizer":    nil,
		"pre_tokenizer": preTok,
		"post_processor": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false,
			"use_regex": true},
		"decoder": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model":   model,
	}
}

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func split(pattern string) map[string]any {
	return map[string]any{"type": "Sequence", "pretokenizers": []any{
		map[string]any{"type": "Split", "pattern": map[string]any{"Regex": pattern}, "behavior": "Isolated", "invert": false},
		map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
	}}
}

func TestGPT2Style(t *testing.T) {
	// GPT-2: ByteLevel pre-tokenizer with its built-in regex and add_prefix_space.
	j := tinyJSON(t, map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true},
		[]string{"Ġ h", "Ġh i", "1 2"}, nil)
	tok, err := LoadFile(writeJSON(t, j))
	if err != nil {
		t.Fatal(err)
	}
	hi, sp, one2 := tokID(t, tok, "Ġhi"), tokID(t, tok, "Ġ"), tokID(t, tok, "12")
	// A prefix space is added to each text segment; " 123" is one GPT-2 piece.
	want := []int{hi, hi, sp, one2, '3', 1000, hi}
	if got := tok.Encode("hi hi 123<|eot|>hi"); !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if got := tok.Decode(want); got != " hi hi 123<|eot|> hi" {
		t.Errorf("Decode = %q", got)
	}
}

func TestLlama3Style(t *testing.T) {
	// Llama-3: Split with \p{N}{1,3}, ignore_merges (whole words in the vocab win), [a, b] merges.
	j := tinyJSON(t, split(patLlama3), []string{"1 2", "12 3"}, nil)
	m := j["model"].(map[string]any)
	m["merges"] = [][]string{{"1", "2"}, {"12", "3"}}
	m["ignore_merges"] = true
	m["vocab"].(map[string]int)["abc"] = 500 // reachable only through ignore_merges
	tok, err := LoadFile(writeJSON(t, j))
	if err != nil {
		t.Fatal(err)
	}
	got := tok.Encode("12345abc")
	want := []int{tokID(t, tok, "123"), '4', '5', 500}
	if !slices.Equal(got, want) {
		t.Errorf("Encode(12345abc) = %v, want %v", got, want)
	}
	m["ignore_merges"] = false
	tok, err = LoadFile(writeJSON(t, j))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("abc"); !slices.Equal(got, []int{'a', 'b', 'c'}) {
		t.Errorf("without ignore_merges: Encode(abc) = %v", got)
	}
}

func tokID(t *testing.T, tok *Tokenizer, s string) int {
	t.Helper()
	id, ok := tok.TokenID(s)
	if !ok {
		t.Fatalf("no token %q", s)
	}
	return id
}

func TestAddedTokenFlags(t *testing.T) {
	j := tinyJSON(t, split(patQwen2), nil, nil)
	j["added_tokens"] = []any{
		map[string]any{"id": 1000, "content": "<a>", "lstrip": true, "rstrip": true, "special": true},
		map[string]any{"id": 1001, "content": "<a>b", "special": false},
		map[string]any{"id": 1002, "content": "sw", "single_word": true},
	}
	tok, err := LoadFile(writeJSON(t, j))
	if err != nil {
		t.Fatal(err)
	}
	sp := tokID(t, tok, "Ġ")
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"x  <a>  y", []int{'x', 1000, 'y'}}, // lstrip/rstrip eat the spaces
		{"<a>bc", []int{1001, 'c'}},          // longest match wins
		{"sw x", []int{1002, sp, 'x'}},       // single word
		{"swx", []int{'s', 'w', 'x'}},        // not a single word: ordinary text (no merges)
		{"x sw", []int{'x', sp, 1002}},
	} {
		if got := tok.Encode(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if !tok.IsSpecial(1000) || tok.IsSpecial(1001) {
		t.Error("IsSpecial")
	}
	if got := tok.DecodeSkipSpecial([]int{'x', 1000, 1001}); got != "x<a>b" {
		t.Errorf("DecodeSkipSpecial = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(j map[string]any)
		field string
	}{
		{"pattern", func(j map[string]any) { j["pre_tokenizer"] = split(`\w+|\s+`) }, "pre_tokenizer.pretokenizers[0].pattern.Regex"},
		{"pretok type", func(j map[string]any) { j["pre_tokenizer"] = map[string]any{"type": "Metaspace"} }, "pre_tokenizer.type"},
		{"no pretok", func(j map[string]any) { j["pre_tokenizer"] = nil }, "pre_tokenizer"},
		{"behavior", func(j map[string]any) {
			j["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)["behavior"] = "Removed"
		}, "pre_tokenizer.pretokenizers[0].behavior"},
		{"model", func(j map[string]any) { j["model"].(map[string]any)["type"] = "Unigram" }, "model.type"},
		{"byte_fallback", func(j map[string]any) { j["model"].(map[string]any)["byte_fallback"] = true }, "model.byte_fallback"},
		{"normalizer", func(j map[string]any) { j["normalizer"] = map[string]any{"type": "NFKC"} }, "normalizer"},
		{"decoder", func(j map[string]any) { j["decoder"] = map[string]any{"type": "WordPiece"} }, "decoder.type"},
		{"merge", func(j map[string]any) { j["model"].(map[string]any)["merges"] = []string{"zz qq"} }, "model.merges[0]"},
		{"byte token", func(j map[string]any) { delete(j["model"].(map[string]any)["vocab"].(map[string]int), "Ġ") }, "model.vocab"},
	} {
		j := tinyJSON(t, split(patQwen2), nil, nil)
		c.edit(j)
		p := writeJSON(t, j)
		_, err := LoadFile(p)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.field+":") {
			t.Errorf("%s: error %q does not name %s and %s", c.name, err, p, c.field)
		}
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("Load(empty dir) = %v", err)
	}
	// tokenizer_config.json naming an unknown token.
	dir := t.TempDir()
	b, _ := json.Marshal(tinyJSON(t, split(patQwen2), nil, nil))
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"eos_token": "<nope>"}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tokenizer_config.json: eos_token") {
		t.Errorf("bad eos_token: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"eos_token": {"content": "<|eot|>"}, "bos_token": null}`), 0o644)
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := tok.EOS(); !ok || id != 1000 {
		t.Errorf("EOS = %d, %v", id, ok)
	}
}
