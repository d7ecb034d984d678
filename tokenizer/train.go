package tokenizer

import (
	"bytes"
	"container/heap"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Qwen3ChatTemplate is Qwen3's published chat template (Apache-2.0), the one
// in ../shared/fixtures/qwen3/chat_template.jinja; trained tokenizers carry it
// in tokenizer_config.json so their directories are ordinary Qwen3-style HF
// model directories.
//
//go:embed qwen3_chat_template.jinja
var Qwen3ChatTemplate string

// Qwen3AddedTokens are Qwen3's 26 added tokens, in id order, with their flags
// (special: the control tokens; not special: <tool_call>, <think>, ...).
var Qwen3AddedTokens = func() []AddedToken {
	special := []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
		"<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
		"<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"}
	plain := []string{"<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
		"<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>"}
	var out []AddedToken
	for _, s := range special {
		out = append(out, AddedToken{Content: s, Special: true})
	}
	for _, s := range plain {
		out = append(out, AddedToken{Content: s})
	}
	return out
}()

// Trainer learns a byte-level BPE vocabulary the way Hugging Face's
// BpeTrainer does for Qwen2-style tokenizers: text is cut at Qwen3's added
// tokens (which are never learned), NFC-normalized, split with the Qwen2
// pre-tokenizer pattern, and the most frequent adjacent pair is merged until
// the vocabulary is full. Ties go to the pair with the smaller ids, so the
// result depends only on the text, never on map order.
type Trainer struct {
	words map[string]int64 // pre-tokenized piece → count
	added *addedMatcher
	bytes int64
}

// NewTrainer returns an empty trainer.
func NewTrainer() *Trainer {
	toks := make([]*AddedToken, len(Qwen3AddedTokens))
	for i := range Qwen3AddedTokens {
		toks[i] = &Qwen3AddedTokens[i]
	}
	return &Trainer{words: map[string]int64{}, added: newAddedMatcher(toks)}
}

// Add counts the pieces of text.
func (tr *Trainer) Add(text string) {
	tr.bytes += int64(len(text))
	tr.added.splitAdded(text, func(seg string) {
		seg = norm.NFC.String(seg)
		splitQwen2.split(seg, func(p string) { tr.words[p]++ })
	}, func(*AddedToken) {})
}

// TrainOptions control Train.
type TrainOptions struct {
	// VocabSize is the total number of ids, Qwen3's 26 added tokens included
	// (HF's len(tokenizer)); at least 256 + 26.
	VocabSize int
	// MinFrequency stops training when the best pair occurs fewer times
	// (default 2: a pair seen once is not worth a token).
	MinFrequency int64
	// Progress, when set, is called after each merge with (merges done, merges wanted).
	Progress func(done, total int)
	// SeparateSpace never merges a pre-token's leading space into what
	// follows it, so a word is the same token after a space (" Boston" in a
	// request) and after a quote ("Boston" in a JSON argument). Copying a
	// value from the request into a tool call is then copying tokens, which
	// tiny models learn far sooner than a table of space/no-space pairs.
	// Sequences get longer by about one token per word.
	SeparateSpace bool
}

// BPE is a trained tokenizer: vocab in id order (ByteLevel strings), merges
// in rank order, and the added tokens with their ids.
type BPE struct {
	Vocab  []string
	Merges [][2]string
	Added  []AddedToken
	// Tokens is the number of tokens the training text encodes to (added
	// tokens not counted); Bytes its size in bytes.
	Tokens, Bytes int64
}

// Train learns merges until opt.VocabSize ids exist (or no pair occurs
// opt.MinFrequency times).
func (tr *Trainer) Train(ctx context.Context, opt TrainOptions) (*BPE, error) {
	nAdded := len(Qwen3AddedTokens)
	if opt.VocabSize < 256+nAdded {
		return nil, fmt.Errorf("tokenizer: vocab size %d is below %d (256 bytes + %d added tokens)", opt.VocabSize, 256+nAdded, nAdded)
	}
	minFreq := opt.MinFrequency
	if minFreq <= 0 {
		minFreq = 2
	}
	// Byte tokens in GPT-2's order (printable bytes first), as Qwen's vocab has them.
	var order []int
	for b := 0; b < 256; b++ {
		if byteToRune[b] < 256 {
			order = append(order, b)
		}
	}
	for b := 0; b < 256; b++ {
		if byteToRune[b] >= 256 {
			order = append(order, b)
		}
	}
	var byteID [256]int32
	vocab := make([]string, 0, opt.VocabSize)
	index := map[string]int32{}
	for _, b := range order {
		byteID[b] = int32(len(vocab))
		s := string(byteToRune[b])
		index[s] = int32(len(vocab))
		vocab = append(vocab, s)
	}

	wordCounts := tr.words
	if opt.SeparateSpace {
		wordCounts = map[string]int64{}
		for w, n := range tr.words {
			if len(w) > 1 && w[0] == ' ' && w[1] != ' ' {
				wordCounts[" "] += n
				w = w[1:]
			}
			wordCounts[w] += n
		}
	}
	// Unique words, sorted so that every later step is deterministic.
	keys := make([]string, 0, len(wordCounts))
	for w := range wordCounts {
		keys = append(keys, w)
	}
	slices.Sort(keys)
	words := make([]trainWord, len(keys))
	for i, w := range keys {
		sym := make([]int32, len(w))
		for j := 0; j < len(w); j++ {
			sym[j] = byteID[w[j]]
		}
		words[i] = trainWord{sym: sym, n: wordCounts[w]}
	}

	counts := map[uint64]int64{}
	where := map[uint64][]int32{}
	for wi, w := range words {
		for j := 0; j+1 < len(w.sym); j++ {
			k := pairKey(w.sym[j], w.sym[j+1])
			counts[k] += w.n
			where[k] = append(where[k], int32(wi))
		}
	}
	h := &pairHeap{}
	for k, c := range counts {
		*h = append(*h, pairItem{key: k, count: c})
	}
	heap.Init(h)

	want := opt.VocabSize - nAdded
	var merges [][2]string
	seen := make([]int32, len(words)) // merge number that last visited each word
	for i := range seen {
		seen[i] = -1
	}
	touched := map[uint64]bool{}
	for len(vocab) < want && h.Len() > 0 {
		if len(merges)%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		top := heap.Pop(h).(pairItem)
		if cur := counts[top.key]; cur != top.count {
			if cur > 0 {
				heap.Push(h, pairItem{key: top.key, count: cur})
			}
			continue
		}
		if top.count < minFreq {
			break
		}
		a, b := int32(top.key>>32), int32(uint32(top.key))
		s := vocab[a] + vocab[b]
		id, ok := index[s]
		if !ok { // two pairs can spell the same token; it keeps its first id
			id = int32(len(vocab))
			index[s] = id
			vocab = append(vocab, s)
		}
		m := int32(len(merges))
		merges = append(merges, [2]string{vocab[a], vocab[b]})
		clear(touched)
		for _, wi := range where[top.key] {
			if seen[wi] == m {
				continue
			}
			seen[wi] = m
			w := &words[wi]
			if !w.has(a, b) {
				continue // a stale entry: an earlier merge consumed the pair
			}
			for j := 0; j+1 < len(w.sym); j++ {
				counts[pairKey(w.sym[j], w.sym[j+1])] -= w.n
			}
			w.merge(a, b, id)
			for j := 0; j+1 < len(w.sym); j++ {
				k := pairKey(w.sym[j], w.sym[j+1])
				counts[k] += w.n
				if w.sym[j] == id || w.sym[j+1] == id {
					where[k] = append(where[k], wi)
					touched[k] = true
				}
			}
		}
		delete(where, top.key)
		// Pairs with the new token are the only ones whose counts grew.
		for k := range touched {
			if c := counts[k]; c > 0 {
				heap.Push(h, pairItem{key: k, count: c})
			}
		}
		if opt.Progress != nil {
			opt.Progress(len(vocab), want)
		}
	}

	out := &BPE{Vocab: vocab, Merges: merges, Bytes: tr.bytes}
	for _, w := range words {
		out.Tokens += int64(len(w.sym)) * w.n
	}
	for i, a := range Qwen3AddedTokens {
		a.ID = len(vocab) + i
		out.Added = append(out.Added, a)
	}
	return out, nil
}

type trainWord struct {
	sym []int32
	n   int64
}

func (w *trainWord) has(a, b int32) bool {
	for j := 0; j+1 < len(w.sym); j++ {
		if w.sym[j] == a && w.sym[j+1] == b {
			return true
		}
	}
	return false
}

// merge replaces non-overlapping (a, b) pairs, left to right, by id.
func (w *trainWord) merge(a, b, id int32) {
	out := w.sym[:0]
	for j := 0; j < len(w.sym); j++ {
		if j+1 < len(w.sym) && w.sym[j] == a && w.sym[j+1] == b {
			out = append(out, id)
			j++
			continue
		}
		out = append(out, w.sym[j])
	}
	w.sym = out
}

type pairItem struct {
	key   uint64
	count int64
}

// pairHeap is a max-heap by count; ties go to the smaller (left, right) ids.
type pairHeap []pairItem

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count > h[j].count
	}
	return h[i].key < h[j].key
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pairItem)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// VocabSize is the number of ids, added tokens included.
func (b *BPE) VocabSize() int { return len(b.Vocab) + len(b.Added) }

// TokenizerJSON is the Hugging Face tokenizer.json of b, laid out as Qwen3's:
// NFC, Split(Qwen2 pattern) + ByteLevel, BPE with the vocab in id order.
func (b *BPE) TokenizerJSON() []byte {
	var buf bytes.Buffer
	str := func(s string) {
		enc, _ := json.Marshal(s) // strings always marshal
		buf.Write(enc)
	}
	buf.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	for i, a := range b.Added {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "\n    {\"id\": %d, \"content\": ", a.ID)
		str(a.Content)
		fmt.Fprintf(&buf, ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": %t}", a.Special)
	}
	buf.WriteString("\n  ],\n  \"normalizer\": {\"type\": \"NFC\"},\n")
	buf.WriteString("  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": ")
	str(patQwen2)
	buf.WriteString("}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": false}]},\n")
	buf.WriteString("  \"post_processor\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": false},\n")
	buf.WriteString("  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": false},\n")
	buf.WriteString("  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": \"\", \"end_of_word_suffix\": \"\", \"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": false,\n    \"vocab\": {")
	for i, s := range b.Vocab {
		if i > 0 {
			buf.WriteString(", ")
		}
		if i%8 == 0 {
			buf.WriteString("\n      ")
		}
		str(s)
		fmt.Fprintf(&buf, ": %d", i)
	}
	buf.WriteString("\n    },\n    \"merges\": [")
	for i, m := range b.Merges {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n      [")
		str(m[0])
		buf.WriteString(", ")
		str(m[1])
		buf.WriteByte(']')
	}
	buf.WriteString("\n    ]\n  }\n}\n")
	return buf.Bytes()
}

// TokenizerConfigJSON is tokenizer_config.json as Qwen3 ships it (eos
// <|im_end|>, pad <|endoftext|>, no BOS, class Qwen2Tokenizer) with the
// given chat template.
func (b *BPE) TokenizerConfigJSON(chatTemplate string) []byte {
	var buf bytes.Buffer
	str := func(s string) {
		enc, _ := json.Marshal(s)
		buf.Write(enc)
	}
	buf.WriteString("{\n  \"add_bos_token\": false,\n  \"add_prefix_space\": false,\n  \"added_tokens_decoder\": {")
	var extra []string
	for i, a := range b.Added {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "\n    \"%d\": {\"content\": ", a.ID)
		str(a.Content)
		fmt.Fprintf(&buf, ", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, \"single_word\": false, \"special\": %t}", a.Special)
		if a.Special && a.Content != "<|endoftext|>" {
			extra = append(extra, a.Content)
		}
	}
	buf.WriteString("\n  },\n  \"additional_special_tokens\": [")
	for i, s := range extra {
		if i > 0 {
			buf.WriteString(", ")
		}
		str(s)
	}
	buf.WriteString("],\n  \"bos_token\": null,\n  \"chat_template\": ")
	str(chatTemplate)
	buf.WriteString(",\n  \"clean_up_tokenization_spaces\": false,\n  \"eos_token\": \"<|im_end|>\",\n  \"errors\": \"replace\",\n")
	buf.WriteString("  \"model_max_length\": 131072,\n  \"pad_token\": \"<|endoftext|>\",\n  \"split_special_tokens\": false,\n")
	buf.WriteString("  \"tokenizer_class\": \"Qwen2Tokenizer\",\n  \"unk_token\": null\n}\n")
	return buf.Bytes()
}

// WriteDir writes dir/tokenizer.json and dir/tokenizer_config.json (each to a
// temporary name, then renamed) with the given chat template
// (Qwen3ChatTemplate when empty).
func (b *BPE) WriteDir(dir, chatTemplate string) error {
	if chatTemplate == "" {
		chatTemplate = Qwen3ChatTemplate
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"tokenizer.json", b.TokenizerJSON()}, {"tokenizer_config.json", b.TokenizerConfigJSON(chatTemplate)}} {
		p := filepath.Join(dir, f.name)
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, f.data, 0o644); err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
		if err := os.Rename(tmp, p); err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
	}
	return nil
}

// String summarises the training result.
func (b *BPE) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d ids (%d bytes + %d merges", b.VocabSize(), 256, len(b.Merges))
	if d := len(b.Merges) - (len(b.Vocab) - 256); d > 0 {
		fmt.Fprintf(&sb, ", %d of them repeating a token", d)
	}
	fmt.Fprintf(&sb, " + %d added)", len(b.Added))
	if b.Tokens > 0 {
		fmt.Fprintf(&sb, "; corpus %d bytes → %d tokens (%.2f bytes/token)", b.Bytes, b.Tokens, float64(b.Bytes)/float64(b.Tokens))
	}
	return sb.String()
}
