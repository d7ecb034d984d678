package gguf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Token types of tokenizer.ggml.token_type (llama.cpp's llama_token_type).
const (
	tokenNormal      int32 = 1
	tokenControl     int32 = 3
	tokenUserDefined int32 = 4
	tokenUnused      int32 = 5
)

// qwen2Regex is the pre-tokenizer split of Qwen2/Qwen3's tokenizer.json,
// which llama.cpp implements as its "qwen2" pre-tokenizer.
const qwen2Regex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// vocab is what the GGUF needs of a Hugging Face tokenizer directory.
type vocab struct {
	tokens    []string
	types     []int32
	merges    []string
	special   []KV // tokenizer.ggml.*_token_id and add_*_token
	templates []KV // tokenizer.chat_template[.name], tokenizer.chat_templates
}

type hfAddedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
}

type hfTokenizer struct {
	AddedTokens   []hfAddedToken  `json:"added_tokens"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         struct {
		Type   string          `json:"type"`
		Vocab  map[string]int  `json:"vocab"`
		Merges json.RawMessage `json:"merges"`
	} `json:"model"`
}

// specialTypes are the special-token kinds converters record, with their GGUF keys.
var specialTypes = []struct{ typ, key string }{
	{"bos", "tokenizer.ggml.bos_token_id"},
	{"eos", "tokenizer.ggml.eos_token_id"},
	{"unk", "tokenizer.ggml.unknown_token_id"},
	{"sep", "tokenizer.ggml.seperator_token_id"}, // sic, as llama.cpp spells it
	{"pad", "tokenizer.ggml.padding_token_id"},
	{"cls", "tokenizer.ggml.cls_token_id"},
	{"mask", "tokenizer.ggml.mask_token_id"},
}

// readVocab reads tokenizer.json (required), tokenizer_config.json and
// chat_template.jinja (optional) from dir; config is config.json's raw fields
// (a fallback for special token ids). The token list is padded to nVocab,
// the embedding's row count, as llama.cpp requires one entry per row.
func readVocab(dir string, nVocab int, config map[string]json.RawMessage) (*vocab, error) {
	path := filepath.Join(dir, "tokenizer.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no tokenizer.json: a GGUF file carries its tokenizer; copy tokenizer.json and tokenizer_config.json from the base model", dir)
	}
	if err != nil {
		return nil, err
	}
	var tok hfTokenizer
	if err := json.Unmarshal(b, &tok); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if tok.Model.Type != "BPE" || len(tok.Model.Vocab) == 0 {
		return nil, fmt.Errorf("%s: model.type %q with %d tokens: only a byte-level BPE tokenizer (Qwen2/Qwen3's) can be exported", path, tok.Model.Type, len(tok.Model.Vocab))
	}
	if err := checkPreTokenizer(tok.PreTokenizer); err != nil {
		return nil, fmt.Errorf("%s: pre_tokenizer: %w", path, err)
	}

	v := &vocab{tokens: make([]string, nVocab), types: make([]int32, nVocab)}
	set := make([]bool, nVocab)
	put := func(id int, s string, typ int32) error {
		if id < 0 || id >= nVocab {
			return fmt.Errorf("%s: token %q has id %d, outside the model's vocab_size %d (config.json)", path, s, id, nVocab)
		}
		v.tokens[id], v.types[id], set[id] = s, typ, true
		return nil
	}
	for s, id := range tok.Model.Vocab {
		if err := put(id, s, tokenNormal); err != nil {
			return nil, err
		}
	}
	for i, a := range tok.AddedTokens {
		// Added tokens are matched whole in text: special ones (and ones that
		// look like <|...|>) are control tokens, the others user-defined, as
		// llama.cpp's converter classifies them.
		typ := tokenUserDefined
		if a.Special || strings.HasPrefix(a.Content, "<|") && strings.HasSuffix(a.Content, "|>") {
			typ = tokenControl
		}
		if a.Content == "" {
			return nil, fmt.Errorf("%s: added_tokens[%d]: empty content", path, i)
		}
		if err := put(a.ID, a.Content, typ); err != nil {
			return nil, err
		}
	}
	for id := range v.tokens {
		if !set[id] {
			v.tokens[id], v.types[id] = fmt.Sprintf("[PAD%d]", id), tokenUnused
		}
	}
	if v.merges, err = parseMerges(tok.Model.Merges); err != nil {
		return nil, fmt.Errorf("%s: model.merges: %w", path, err)
	}

	tc, err := readJSONObject(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return nil, err
	}
	if v.special, err = specialTokens(tok.AddedTokens, tc, config, nVocab, postProcessorAddsBOS(tok.PostProcessor)); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "tokenizer_config.json"), err)
	}
	if v.templates, err = chatTemplates(dir, tc); err != nil {
		return nil, err
	}
	return v, nil
}

// checkPreTokenizer accepts Qwen2/Qwen3's pre-tokenizer: a Split on
// qwen2Regex followed by ByteLevel without its own regex.
func checkPreTokenizer(raw json.RawMessage) error {
	var pt struct {
		Type          string            `json:"type"`
		Pretokenizers []json.RawMessage `json:"pretokenizers"`
	}
	if err := json.Unmarshal(raw, &pt); err != nil {
		return err
	}
	var regex string
	byteLevel := false
	for _, p := range pt.Pretokenizers {
		var s struct {
			Type    string `json:"type"`
			Pattern struct {
				Regex string `json:"Regex"`
			} `json:"pattern"`
			UseRegex bool `json:"use_regex"`
		}
		if err := json.Unmarshal(p, &s); err != nil {
			return err
		}
		switch s.Type {
		case "Split":
			regex = s.Pattern.Regex
		case "ByteLevel":
			byteLevel = !s.UseRegex
		}
	}
	if pt.Type != "Sequence" || regex != qwen2Regex || !byteLevel {
		return fmt.Errorf("not Qwen2/Qwen3's (a Split on %q, then ByteLevel): llama.cpp's %q pre-tokenizer would split text differently", qwen2Regex, "qwen2")
	}
	return nil
}

// parseMerges accepts both tokenizer.json forms: "a b" strings, or [a, b]
// pairs (transformers ≥ 4.45), which GGUF stores as "a b" with spaces inside
// a part written as U+0120, as llama.cpp's converter does.
func parseMerges(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("missing: a BPE tokenizer needs its merges")
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		return strs, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, errors.New("neither a list of strings nor a list of [a, b] pairs")
	}
	out := make([]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("merge %d has %d parts, want 2", i, len(p))
		}
		out[i] = strings.ReplaceAll(p[0], " ", "\u0120") + " " + strings.ReplaceAll(p[1], " ", "\u0120")
	}
	return out, nil
}

// readJSONObject reads a JSON object file; a missing file is an empty object.
func readJSONObject(path string) (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// specialTokens resolves bos/eos/... ids as llama.cpp's converter does:
// tokenizer_config.json's <typ>_token (a string or {content}) looked up among
// the added tokens first, then config.json's <typ>_token_id. add_bos_token
// comes from tokenizer_config.json, else addsBOS (the post-processor's).
func specialTokens(added []hfAddedToken, tc, config map[string]json.RawMessage, nVocab int, addsBOS bool) ([]KV, error) {
	var kv []KV
	for _, st := range specialTypes {
		id := -1
		if raw, ok := tc[st.typ+"_token"]; ok {
			var content string
			var obj struct {
				Content string `json:"content"`
			}
			if json.Unmarshal(raw, &content) != nil && json.Unmarshal(raw, &obj) == nil {
				content = obj.Content
			}
			for _, a := range added {
				if content != "" && a.Content == content {
					id = a.ID
					break
				}
			}
		}
		if id < 0 {
			var n int
			if raw, ok := config[st.typ+"_token_id"]; ok && json.Unmarshal(raw, &n) == nil && n >= 0 && n < nVocab {
				id = n
			}
		}
		if id >= 0 {
			kv = append(kv, KV{st.key, uint32(id)})
		}
	}
	// add_bos_token is always written: readers disagree on its default
	// (Ollama's qwen3 assumes true, which would put a token Qwen3 never saw
	// first).
	for _, typ := range []string{"bos", "eos"} {
		raw, ok := tc["add_"+typ+"_token"]
		if !ok {
			if typ == "bos" {
				kv = append(kv, KV{"tokenizer.ggml.add_bos_token", addsBOS})
			}
			continue
		}
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("add_%s_token: %w", typ, err)
		}
		kv = append(kv, KV{"tokenizer.ggml.add_" + typ + "_token", b})
	}
	return kv, nil
}

// postProcessorAddsBOS reports whether tokenizer.json's post-processor puts
// a special token first (a TemplateProcessing starting with one, or a
// BERT/RoBERTa processor), which is what makes HF tokenizers add a BOS.
// Qwen's is ByteLevel only: no BOS.
func postProcessorAddsBOS(raw json.RawMessage) bool {
	var pp struct {
		Type       string            `json:"type"`
		Processors []json.RawMessage `json:"processors"`
		Single     []map[string]any  `json:"single"`
	}
	if json.Unmarshal(raw, &pp) != nil {
		return false
	}
	switch pp.Type {
	case "TemplateProcessing":
		return len(pp.Single) > 0 && pp.Single[0]["SpecialToken"] != nil
	case "BertProcessing", "RobertaProcessing":
		return true
	case "Sequence":
		for _, p := range pp.Processors {
			if postProcessorAddsBOS(p) {
				return true
			}
		}
	}
	return false
}

// chatTemplates returns the chat template metadata: chat_template.jinja when
// present (as package chat reads it), else tokenizer_config.json's
// chat_template, a string or a list of {name, template}.
func chatTemplates(dir string, tc map[string]json.RawMessage) ([]KV, error) {
	if b, err := os.ReadFile(filepath.Join(dir, "chat_template.jinja")); err == nil {
		return []KV{{"tokenizer.chat_template", string(b)}}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	raw, ok := tc["chat_template"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []KV{{"tokenizer.chat_template", s}}, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return nil, fmt.Errorf("%s: chat_template: neither a string nor a list of {name, template}", filepath.Join(dir, "tokenizer_config.json"))
	}
	var kv []KV
	var names []string
	for _, t := range named {
		if t.Name == "default" {
			kv = append(kv, KV{"tokenizer.chat_template", t.Template})
		} else {
			kv = append(kv, KV{"tokenizer.chat_template." + t.Name, t.Template})
			names = append(names, t.Name)
		}
	}
	if len(names) > 0 {
		kv = append(kv, KV{"tokenizer.chat_templates", names})
	}
	return kv, nil
}
