package gguf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/star-go/star/internal/fixture"
)

// qwenTokenizerFiles are the real Qwen3 tokenizer files of the fixtures.
var qwenTokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "chat_template.jinja"}

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			copyFile(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
		}
	}
	return dst
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// addQwenTokenizer copies the real Qwen3 tokenizer files into dir.
func addQwenTokenizer(t *testing.T, dir string) {
	t.Helper()
	for _, f := range qwenTokenizerFiles {
		copyFile(t, fixture.Path(t, "fixtures/qwen3/"+f), filepath.Join(dir, f))
	}
}

// smallTokenizer maps the fixture specials to these ids in a small vocabulary.
var smallSpecials = map[string]int{"<|endoftext|>": 990, "<|im_start|>": 991, "<|im_end|>": 992, "<think>": 993}

// addSmallTokenizer writes into dir a Qwen3-style tokenizer cut down to the
// 1000-token vocabulary of the tiny fixture checkpoints: the real tokenizer's
// ids below 990 (bytes and early merges), the merges among them, and four of
// its added tokens renumbered (smallSpecials); tokenizer_config.json and the
// chat template are the real ones.
func addSmallTokenizer(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(fixture.Path(t, "fixtures/qwen3/tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	m := tok["model"].(map[string]any)
	vocab := map[string]any{}
	for s, id := range m["vocab"].(map[string]any) {
		if id.(float64) < 990 {
			vocab[s] = id
		}
	}
	var merges []any
	for _, p := range m["merges"].([]any) {
		pair := p.([]any)
		a, b := pair[0].(string), pair[1].(string)
		if vocab[a] != nil && vocab[b] != nil && vocab[a+b] != nil {
			merges = append(merges, p)
		}
	}
	m["vocab"], m["merges"] = vocab, merges
	var added []any
	for _, a := range tok["added_tokens"].([]any) {
		at := a.(map[string]any)
		if id, ok := smallSpecials[at["content"].(string)]; ok {
			at["id"] = id
			added = append(added, at)
		}
	}
	tok["added_tokens"] = added
	out, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range qwenTokenizerFiles[1:] {
		copyFile(t, fixture.Path(t, "fixtures/qwen3/"+f), filepath.Join(dir, f))
	}
}

// editJSON rewrites one field of a JSON object file.
func editJSON(t *testing.T, path, key string, value any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if value == nil {
		delete(m, key)
	} else {
		m[key] = value
	}
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// leftovers lists files in dir whose name contains ".tmp" (temporary files).
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			out = append(out, e.Name())
		}
	}
	return out
}
