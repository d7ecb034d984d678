// Package tokenizer loads a Hugging Face tokenizer.json for byte-level BPE
// models (Qwen2/Qwen3, Llama-3, GPT-2 families) and encodes and decodes text
// exactly as the Hugging Face tokenizers library does.
//
// Encoding: added tokens are matched first (leftmost-longest, honouring
// single_word/lstrip/rstrip/normalized), the remaining text is NFC-normalized
// (when the tokenizer asks for it), split with the pre-tokenizer's GPT-style
// regex (hand-written matcher, see split.go), mapped to ByteLevel symbols and
// merged by BPE rank. No special tokens (BOS/EOS) are inserted: Encode is
// HF's encode(text, add_special_tokens=False).
//
// A Tokenizer is safe for concurrent use.
package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// AddedToken is an entry of tokenizer.json's added_tokens.
type AddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// Tokenizer is a loaded byte-level BPE tokenizer.
type Tokenizer struct {
	path string

	nfc          bool
	split        *splitPattern
	prefixSpace  bool // ByteLevel add_prefix_space
	model        bpeModel
	cache        wordCache
	added        []AddedToken
	addedByID    map[int]*AddedToken
	addedByText  map[string]*AddedToken
	rawMatcher   *addedMatcher // tokens with normalized=false, matched on raw text
	normMatcher  *addedMatcher // tokens with normalized=true, matched after NFC
	tokens       []string      // id → token string (vocab form, or added content)
	decoded      [][]byte      // id → bytes emitted by Decode
	vocabByToken map[string]int32

	bos, eos, pad int // -1 when unknown
}

// Load reads dir/tokenizer.json and, if present, dir/tokenizer_config.json
// (for the bos/eos/pad token names).
func Load(dir string) (*Tokenizer, error) {
	t, err := LoadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		if os.IsNotExist(err) {
			return t, nil
		}
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if err := t.readConfig(cfgPath, data); err != nil {
		return nil, err
	}
	return t, nil
}

// LoadFile reads a tokenizer.json file.
func LoadFile(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return parse(path, data)
}

type fileJSON struct {
	AddedTokens   []AddedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type                    string          `json:"type"`
		Dropout                 *float64        `json:"dropout"`
		UnkToken                *string         `json:"unk_token"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
		ByteFallback            bool            `json:"byte_fallback"`
		IgnoreMerges            bool            `json:"ignore_merges"`
		Vocab                   map[string]int  `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
	} `json:"model"`
}

type component struct {
	Type           string            `json:"type"`
	Pattern        *patternJSON      `json:"pattern"`
	Behavior       string            `json:"behavior"`
	Invert         bool              `json:"invert"`
	AddPrefixSpace bool              `json:"add_prefix_space"`
	UseRegex       *bool             `json:"use_regex"`
	Normalizers    []json.RawMessage `json:"normalizers"`
	Pretokenizers  []json.RawMessage `json:"pretokenizers"`
}

type patternJSON struct {
	Regex  *string `json:"Regex"`
	String *string `json:"String"`
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func parse(path string, data []byte) (*Tokenizer, error) {
	errf := func(field, format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s: %s: %s", path, field, fmt.Sprintf(format, args...))
	}
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	t := &Tokenizer{path: path, bos: -1, eos: -1, pad: -1}

	// normalizer
	if !isNull(f.Normalizer) {
		var c component
		if err := json.Unmarshal(f.Normalizer, &c); err != nil {
			return nil, errf("normalizer", "%v", err)
		}
		switch {
		case c.Type == "NFC":
			t.nfc = true
		case c.Type == "Sequence" && len(c.Normalizers) == 0:
		case c.Type == "Sequence" && len(c.Normalizers) == 1:
			var n component
			if err := json.Unmarshal(c.Normalizers[0], &n); err != nil || n.Type != "NFC" {
				return nil, errf("normalizer.normalizers[0]", "unsupported normalizer %s", c.Normalizers[0])
			}
			t.nfc = true
		default:
			return nil, errf("normalizer", "unsupported normalizer type %q (supported: null, NFC)", c.Type)
		}
	}

	// pre_tokenizer
	if err := t.parsePreTokenizer(f.PreTokenizer, errf); err != nil {
		return nil, err
	}

	// decoder
	if isNull(f.Decoder) {
		return nil, errf("decoder", "missing (want ByteLevel)")
	}
	var dec component
	if err := json.Unmarshal(f.Decoder, &dec); err != nil {
		return nil, errf("decoder", "%v", err)
	}
	if dec.Type != "ByteLevel" {
		return nil, errf("decoder.type", "unsupported decoder %q (supported: ByteLevel)", dec.Type)
	}

	// model
	m := &f.Model
	if m.Type != "" && m.Type != "BPE" {
		return nil, errf("model.type", "unsupported model %q (supported: BPE)", m.Type)
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return nil, errf("model.dropout", "BPE dropout is not supported")
	}
	if m.ByteFallback {
		return nil, errf("model.byte_fallback", "byte_fallback is not supported (byte-level BPE only)")
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, errf("model.continuing_subword_prefix", "must be empty for byte-level BPE")
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return nil, errf("model.end_of_word_suffix", "must be empty for byte-level BPE")
	}
	if len(m.Vocab) == 0 {
		return nil, errf("model.vocab", "empty")
	}

	maxID := -1
	for tok, id := range m.Vocab {
		if id < 0 {
			return nil, errf("model.vocab", "negative id %d for %q", id, tok)
		}
		maxID = max(maxID, id)
	}
	for i, a := range f.AddedTokens {
		if a.ID < 0 || a.Content == "" {
			return nil, errf(fmt.Sprintf("added_tokens[%d]", i), "bad id %d or empty content", a.ID)
		}
		maxID = max(maxID, a.ID)
	}
	t.tokens = make([]string, maxID+1)
	t.decoded = make([][]byte, maxID+1)
	runeToByte := make(map[rune]byte, 256)
	for b, r := range byteToRune {
		runeToByte[r] = byte(b)
	}
	t.vocabByToken = make(map[string]int32, len(m.Vocab))
	for tok, id := range m.Vocab {
		t.tokens[id] = tok
		t.vocabByToken[tok] = int32(id)
		if b, ok := unByteLevel(tok, runeToByte); ok {
			t.decoded[id] = b
		} else {
			t.decoded[id] = []byte(tok)
		}
	}
	for b := 0; b < 256; b++ {
		id, ok := m.Vocab[string(byteToRune[b])]
		if !ok {
			return nil, errf("model.vocab", "missing the ByteLevel token %q for byte 0x%02x", string(byteToRune[b]), b)
		}
		t.model.byteID[b] = int32(id)
	}
	pairs, err := parseMerges(m.Merges)
	if err != nil {
		return nil, errf("model.merges", "%v", err)
	}
	t.model.merges = make(map[uint64]merge, len(pairs))
	for rank, pr := range pairs {
		a, b := pr[0], pr[1]
		ia, ok1 := m.Vocab[a]
		ib, ok2 := m.Vocab[b]
		ic, ok3 := m.Vocab[a+b]
		if !ok1 || !ok2 || !ok3 {
			return nil, errf(fmt.Sprintf("model.merges[%d]", rank), "%q + %q: part or result not in model.vocab", a, b)
		}
		k := pairKey(int32(ia), int32(ib))
		if _, dup := t.model.merges[k]; !dup { // the first (lowest) rank wins
			t.model.merges[k] = merge{rank: int32(rank), id: int32(ic)}
		}
	}
	if m.IgnoreMerges {
		t.model.ignoreMerges = true
		t.model.vocab = make(map[string]int32, len(m.Vocab))
		for tok, id := range m.Vocab {
			if b, ok := unByteLevel(tok, runeToByte); ok {
				t.model.vocab[string(b)] = int32(id)
			}
		}
	}

	// added tokens
	t.added = f.AddedTokens
	t.addedByID = make(map[int]*AddedToken, len(t.added))
	t.addedByText = make(map[string]*AddedToken, len(t.added))
	var raw, normd []*AddedToken
	for i := range t.added {
		a := &t.added[i]
		t.addedByID[a.ID] = a
		t.addedByText[a.Content] = a
		t.tokens[a.ID] = a.Content
		t.decoded[a.ID] = []byte(a.Content)
		if a.Normalized {
			normd = append(normd, a)
		} else {
			raw = append(raw, a)
		}
	}
	t.rawMatcher = newAddedMatcher(raw)
	t.normMatcher = newAddedMatcher(normd)
	return t, nil
}

// parseMerges accepts both merge formats: ["a b", ...] and [["a", "b"], ...].
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var strs []string
	if err := json.Unmarshal(raw, &strs); err != nil {
		return nil, fmt.Errorf("want [\"a b\", ...] or [[\"a\", \"b\"], ...]: %v", err)
	}
	pairs = make([][2]string, len(strs))
	for i, s := range strs {
		j := indexByte(s, ' ')
		if j < 0 {
			return nil, fmt.Errorf("[%d]: no space in %q", i, s)
		}
		pairs[i] = [2]string{s[:j], s[j+1:]}
	}
	return pairs, nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func (t *Tokenizer) parsePreTokenizer(raw json.RawMessage, errf func(field, format string, args ...any) error) error {
	if isNull(raw) {
		return errf("pre_tokenizer", "missing (want Split+ByteLevel or ByteLevel)")
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return errf("pre_tokenizer", "%v", err)
	}
	parts := []json.RawMessage{raw}
	prefix := "pre_tokenizer"
	if c.Type == "Sequence" {
		parts = c.Pretokenizers
		prefix = "pre_tokenizer.pretokenizers"
	}
	var split *splitPattern
	sawByteLevel := false
	for i, p := range parts {
		field := prefix
		if c.Type == "Sequence" {
			field = fmt.Sprintf("%s[%d]", prefix, i)
		}
		var pc component
		if err := json.Unmarshal(p, &pc); err != nil {
			return errf(field, "%v", err)
		}
		switch pc.Type {
		case "Split":
			if split != nil || sawByteLevel {
				return errf(field, "only one Split before ByteLevel is supported")
			}
			if pc.Pattern == nil || pc.Pattern.Regex == nil {
				return errf(field+".pattern", "want a Regex pattern")
			}
			sp, ok := knownPatterns[*pc.Pattern.Regex]
			if !ok {
				return errf(field+".pattern.Regex", "unsupported split pattern %q (supported: the Qwen2/3, Llama-3 and GPT-2 patterns)", *pc.Pattern.Regex)
			}
			if pc.Behavior != "Isolated" {
				return errf(field+".behavior", "unsupported %q (supported: Isolated)", pc.Behavior)
			}
			if pc.Invert {
				return errf(field+".invert", "invert=true is not supported")
			}
			split = sp
		case "ByteLevel":
			if sawByteLevel {
				return errf(field, "duplicate ByteLevel")
			}
			sawByteLevel = true
			useRegex := pc.UseRegex == nil || *pc.UseRegex
			if useRegex {
				if split != nil {
					return errf(field+".use_regex", "use_regex=true after a Split is not supported")
				}
				split = splitGPT2
			}
			t.prefixSpace = pc.AddPrefixSpace
		default:
			return errf(field+".type", "unsupported pre-tokenizer %q (supported: Split, ByteLevel)", pc.Type)
		}
	}
	if !sawByteLevel {
		return errf(prefix, "no ByteLevel pre-tokenizer (only byte-level BPE is supported)")
	}
	if split == nil {
		return errf(prefix, "no split regex (ByteLevel use_regex=false without a Split)")
	}
	t.split = split
	return nil
}

type configJSON struct {
	BOS json.RawMessage `json:"bos_token"`
	EOS json.RawMessage `json:"eos_token"`
	PAD json.RawMessage `json:"pad_token"`
}

func (t *Tokenizer) readConfig(path string, data []byte) error {
	var c configJSON
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	for _, x := range []struct {
		name string
		raw  json.RawMessage
		dst  *int
	}{{"bos_token", c.BOS, &t.bos}, {"eos_token", c.EOS, &t.eos}, {"pad_token", c.PAD, &t.pad}} {
		if isNull(x.raw) {
			continue
		}
		var name string
		if err := json.Unmarshal(x.raw, &name); err != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if err := json.Unmarshal(x.raw, &obj); err != nil || obj.Content == "" {
				return fmt.Errorf("tokenizer: %s: %s: want a string or {\"content\": ...}", path, x.name)
			}
			name = obj.Content
		}
		id, ok := t.TokenID(name)
		if !ok {
			return fmt.Errorf("tokenizer: %s: %s: token %q is not in the vocabulary", path, x.name, name)
		}
		*x.dst = id
	}
	return nil
}

// addedMatcher finds added tokens in text, leftmost-longest.
type addedMatcher struct {
	first [256]bool
	byLen [][]*AddedToken // candidates by first byte, longest first
	index [256]int16      // first byte → index into byLen, -1 if none
}

func newAddedMatcher(toks []*AddedToken) *addedMatcher {
	if len(toks) == 0 {
		return nil
	}
	m := &addedMatcher{}
	for i := range m.index {
		m.index[i] = -1
	}
	for _, a := range toks {
		b := a.Content[0]
		if m.index[b] < 0 {
			m.index[b] = int16(len(m.byLen))
			m.byLen = append(m.byLen, nil)
			m.first[b] = true
		}
		m.byLen[m.index[b]] = append(m.byLen[m.index[b]], a)
	}
	for _, l := range m.byLen {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].Content) > len(l[j].Content) })
	}
	return m
}

// find returns the leftmost-longest match at or after from: [start, end) and the token.
func (m *addedMatcher) find(s string, from int) (int, int, *AddedToken) {
	for i := from; i < len(s); i++ {
		if !m.first[s[i]] {
			continue
		}
		for _, a := range m.byLen[m.index[s[i]]] {
			if len(s)-i >= len(a.Content) && s[i:i+len(a.Content)] == a.Content {
				return i, i + len(a.Content), a
			}
		}
	}
	return -1, -1, nil
}

func isWordChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

// splitAdded calls text(seg) for runs of ordinary text and tok(a) for added
// tokens, in order. lo is the start of the pending ordinary text.
func (m *addedMatcher) splitAdded(s string, text func(string), tok func(*AddedToken)) {
	if m == nil {
		if s != "" {
			text(s)
		}
		return
	}
	lo, from := 0, 0
	for {
		st, en, a := m.find(s, from)
		if a == nil {
			break
		}
		if a.SingleWord {
			if st > 0 {
				if r, _ := utf8.DecodeLastRuneInString(s[:st]); isWordChar(r) {
					from = en
					continue
				}
			}
			if en < len(s) {
				if r, _ := utf8.DecodeRuneInString(s[en:]); isWordChar(r) {
					from = en
					continue
				}
			}
		}
		if a.LStrip {
			for st > lo {
				r, w := utf8.DecodeLastRuneInString(s[lo:st])
				if !unicode.IsSpace(r) {
					break
				}
				st -= w
			}
		}
		if a.RStrip {
			for en < len(s) {
				r, w := utf8.DecodeRuneInString(s[en:])
				if !unicode.IsSpace(r) {
					break
				}
				en += w
			}
		}
		if st > lo {
			text(s[lo:st])
		}
		tok(a)
		lo, from = en, en
	}
	if lo < len(s) {
		text(s[lo:])
	}
}

// Encode returns the token ids of text (no BOS/EOS inserted).
func (t *Tokenizer) Encode(text string) []int {
	return t.AppendEncode(make([]int, 0, len(text)/3+4), text)
}

// AppendEncode appends the token ids of text to dst and returns it.
func (t *Tokenizer) AppendEncode(dst []int, text string) []int {
	ws := workspacePool.Get().(*workspace)
	t.rawMatcher.splitAdded(text, func(seg string) {
		if t.nfc {
			seg = norm.NFC.String(seg)
		}
		t.normMatcher.splitAdded(seg, func(s string) {
			dst = t.encodeText(dst, s, ws)
		}, func(a *AddedToken) { dst = append(dst, a.ID) })
	}, func(a *AddedToken) { dst = append(dst, a.ID) })
	workspacePool.Put(ws)
	return dst
}

func (t *Tokenizer) encodeText(dst []int, s string, ws *workspace) []int {
	if t.prefixSpace && s[0] != ' ' {
		s = " " + s
	}
	sp := t.split
	for i := 0; i < len(s); {
		e := sp.next(s, i)
		w := s[i:e]
		i = e
		if len(w) == 1 {
			dst = append(dst, int(t.model.byteID[w[0]]))
			continue
		}
		if len(w) <= cacheMaxWord {
			if ids, ok := t.cache.get(w); ok {
				for _, id := range ids {
					dst = append(dst, int(id))
				}
				continue
			}
			n := len(dst)
			dst = t.model.encodeWord(w, ws, dst)
			ids := make([]int32, len(dst)-n)
			for k, id := range dst[n:] {
				ids[k] = int32(id)
			}
			t.cache.put(w, ids)
			continue
		}
		dst = t.model.encodeWord(w, ws, dst)
	}
	return dst
}

// EncodeBatch encodes texts in parallel using GOMAXPROCS workers.
func (t *Tokenizer) EncodeBatch(texts []string) [][]int {
	out := make([][]int, len(texts))
	workers := min(runtime.GOMAXPROCS(0), len(texts))
	if workers <= 1 {
		for i, s := range texts {
			out[i] = t.Encode(s)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(texts) {
					return
				}
				out[i] = t.Encode(texts[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// Decode returns the text of ids: byte-level tokens are mapped back to bytes
// (invalid UTF-8 becomes U+FFFD as in HF), added tokens give their content.
// Unknown ids are skipped.
func (t *Tokenizer) Decode(ids []int) string { return t.decode(ids, false) }

// DecodeSkipSpecial is Decode with special tokens (added tokens flagged
// special, e.g. <|im_end|>) left out, like HF's skip_special_tokens=True.
func (t *Tokenizer) DecodeSkipSpecial(ids []int) string { return t.decode(ids, true) }

func (t *Tokenizer) decode(ids []int, skipSpecial bool) string {
	n := 0
	for _, id := range ids {
		if id >= 0 && id < len(t.decoded) {
			n += len(t.decoded[id])
		}
	}
	buf := make([]byte, 0, n)
	for _, id := range ids {
		if id < 0 || id >= len(t.decoded) {
			continue
		}
		if skipSpecial {
			if a := t.addedByID[id]; a != nil && a.Special {
				continue
			}
		}
		buf = append(buf, t.decoded[id]...)
	}
	return lossyUTF8(buf)
}

// TokenID returns the id of an added/special token or of a vocab token
// (given in its ByteLevel form, e.g. "Ġthe").
func (t *Tokenizer) TokenID(token string) (int, bool) {
	if a, ok := t.addedByText[token]; ok {
		return a.ID, true
	}
	if id, ok := t.vocabByToken[token]; ok {
		return int(id), true
	}
	return 0, false
}

// Token returns the token string of id (ByteLevel form for vocab tokens,
// content for added tokens), or "" if id is unknown.
func (t *Tokenizer) Token(id int) string {
	if id < 0 || id >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// VocabSize is the number of ids, added tokens included (max id + 1; HF's len(tokenizer)).
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// IsSpecial reports whether id is an added token flagged special.
func (t *Tokenizer) IsSpecial(id int) bool {
	a := t.addedByID[id]
	return a != nil && a.Special
}

// AddedTokens returns the added tokens as listed in tokenizer.json.
func (t *Tokenizer) AddedTokens() []AddedToken { return append([]AddedToken(nil), t.added...) }

// BOS, EOS and PAD return the ids named by tokenizer_config.json (Load only).
func (t *Tokenizer) BOS() (int, bool) { return t.bos, t.bos >= 0 }

// EOS returns the id of tokenizer_config.json's eos_token.
func (t *Tokenizer) EOS() (int, bool) { return t.eos, t.eos >= 0 }

// PAD returns the id of tokenizer_config.json's pad_token.
func (t *Tokenizer) PAD() (int, bool) { return t.pad, t.pad >= 0 }

// Split returns the pre-tokenizer pieces of text (after NFC, without added
// token matching); the pieces concatenate to the normalized text.
func (t *Tokenizer) Split(text string) []string {
	if t.nfc {
		text = norm.NFC.String(text)
	}
	var out []string
	t.split.split(text, func(p string) { out = append(out, p) })
	return out
}
