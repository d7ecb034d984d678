package tokenizer

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/star-go/star/chat"
	"github.com/star-go/star/internal/fixture"
	"github.com/star-go/star/internal/pyjson"
)

// trainCorpus is varied text made outside the project: the rendered Qwen3
// prompts (chat markup, JSON, tools) and the tokenizer fixture's strings
// (several scripts, digits, whitespace runs).
func trainCorpus(t *testing.T) []string {
	t.Helper()
	var texts []string
	for _, r := range readJSONL[struct {
		Text string `json:"text"`
	}](t, "fixtures/qwen3/chat_template.jsonl") {
		texts = append(texts, r.Text)
	}
	for _, r := range readJSONL[textIDs](t, "fixtures/qwen3/tokenize.jsonl") {
		texts = append(texts, r.Text)
	}
	return texts
}

func train(t *testing.T, texts []string, vocab int) *BPE {
	t.Helper()
	tr := NewTrainer()
	for _, s := range texts {
		tr.Add(s)
	}
	b, err := tr.Train(context.Background(), TrainOptions{VocabSize: vocab})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrainRoundTrip(t *testing.T) {
	texts := trainCorpus(t)
	b := train(t, texts, 1000)
	if b.VocabSize() != 1000 {
		t.Fatalf("vocab size %d, want 1000", b.VocabSize())
	}
	dir := t.TempDir()
	if err := b.WriteDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 1000 {
		t.Fatalf("loaded vocab size %d, want 1000", tok.VocabSize())
	}
	var tokens int64
	for i, s := range texts {
		ids := tok.Encode(s)
		if got, want := tok.Decode(ids), norm.NFC.String(s); got != want {
			t.Fatalf("text %d does not round-trip:\n got %q\nwant %q", i, got, want)
		}
		for _, id := range ids {
			if !slices.ContainsFunc(b.Added, func(a AddedToken) bool { return a.ID == id }) {
				tokens++
			}
		}
	}
	// Encoding by merge rank must cut the corpus exactly as training did.
	if tokens != b.Tokens {
		t.Errorf("the loaded tokenizer encodes the corpus to %d tokens, training ended with %d", tokens, b.Tokens)
	}
	if float64(b.Bytes)/float64(b.Tokens) < 2 {
		t.Errorf("compression %.2f bytes/token on the training text; 744 merges should give more", float64(b.Bytes)/float64(b.Tokens))
	}
}

// The merges are those of Hugging Face's own BpeTrainer (Rust, through the
// npm package tokenizers 0.23.2; testdata/train_hf_merges.js) on the same
// text, merge for merge, trained to exhaustion (min_frequency 0 there, 1
// here: both stop when no pair is left).
func TestTrainMatchesHF(t *testing.T) {
	raw, err := os.ReadFile("testdata/train_hf_merges.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Merges [][2]string `json:"merges"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	// The corpus as the script builds it; HF reads it line by line, each
	// line with its "\n".
	var olds []string
	for _, a := range Qwen3AddedTokens {
		olds = append(olds, a.Content, "\n")
	}
	strip := strings.NewReplacer(olds...)
	tr := NewTrainer()
	for _, text := range trainCorpus(t) {
		text = strip.Replace(text) + "\n"
		for len(text) > 0 {
			i := strings.IndexByte(text, '\n')
			tr.Add(text[:i+1])
			text = text[i+1:]
		}
	}
	b, err := tr.Train(context.Background(), TrainOptions{VocabSize: 30000, MinFrequency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Merges) != len(ref.Merges) {
		t.Errorf("%d merges, HF made %d", len(b.Merges), len(ref.Merges))
	}
	for i := range min(len(b.Merges), len(ref.Merges)) {
		if b.Merges[i] != ref.Merges[i] {
			t.Fatalf("merge %d: %q, HF %q", i, b.Merges[i], ref.Merges[i])
		}
	}
}

func TestTrainDeterministic(t *testing.T) {
	texts := trainCorpus(t)
	a := train(t, texts, 700).TokenizerJSON()
	rev := slices.Clone(texts)
	slices.Reverse(rev)
	b := train(t, rev, 700).TokenizerJSON()
	if !bytes.Equal(a, b) {
		t.Fatal("the same text added in another order gave a different tokenizer.json")
	}
}

func TestTrainSmall(t *testing.T) {
	// "ab" ×3 (once bare, twice after a space), " cd" once: (a,b) is merged
	// first, then (Ġ,ab); every other pair occurs once, below MinFrequency.
	b := train(t, []string{"ab ab ab cd"}, 400)
	want := [][2]string{{"a", "b"}, {"Ġ", "ab"}}
	if !slices.Equal(b.Merges, want) {
		t.Fatalf("merges %q, want %q", b.Merges, want)
	}
	if b.VocabSize() != 256+2+26 {
		t.Fatalf("vocab size %d, want %d", b.VocabSize(), 256+2+26)
	}
	if b.Vocab[0] != "!" || b.Vocab[256] != "ab" || b.Vocab[257] != "Ġab" {
		t.Fatalf("vocab order: [0]=%q [256]=%q [257]=%q", b.Vocab[0], b.Vocab[256], b.Vocab[257])
	}
	if b.Tokens != 1+2+3 { // ab, Ġab ×2, Ġ c d
		t.Fatalf("tokens %d, want 6", b.Tokens)
	}
	if _, err := NewTrainer().Train(context.Background(), TrainOptions{VocabSize: 281}); err == nil {
		t.Fatal("vocab size 281 (< 256 + 26) accepted")
	}
}

func TestTrainSpecialTokens(t *testing.T) {
	texts := trainCorpus(t)
	b := train(t, texts, 800)
	dir := t.TempDir()
	if err := b.WriteDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range Qwen3AddedTokens {
		ids := tok.Encode("x" + a.Content + "y")
		if len(ids) != 3 || tok.Token(ids[1]) != a.Content {
			t.Errorf("%s is not one id between x and y: %v", a.Content, ids)
			continue
		}
		if ids[1] < 800-26 || tok.IsSpecial(ids[1]) != a.Special {
			t.Errorf("%s: id %d, special %t; want an id ≥ 774, special %t", a.Content, ids[1], tok.IsSpecial(ids[1]), a.Special)
		}
	}
	// Added tokens are never learned as merges.
	for _, v := range b.Vocab {
		if bytes.Contains([]byte(v), []byte("im_start")) {
			t.Errorf("vocab has %q: added tokens leaked into training", v)
		}
	}
	eos, ok1 := tok.EOS()
	pad, ok2 := tok.PAD()
	if !ok1 || tok.Token(eos) != "<|im_end|>" || !ok2 || tok.Token(pad) != "<|endoftext|>" {
		t.Errorf("eos %d (%t), pad %d (%t)", eos, ok1, pad, ok2)
	}
}

// The written directory is an ordinary Qwen3 model directory for the chat
// package: the template loads from tokenizer_config.json and renders the
// fixture's conversations exactly as Qwen3's own files do.
func TestTrainChatTemplate(t *testing.T) {
	ref, err := os.ReadFile(fixture.Path(t, "fixtures/qwen3/chat_template.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	if string(ref) != Qwen3ChatTemplate {
		t.Fatal("qwen3_chat_template.jinja differs from the shared fixture")
	}
	b := train(t, []string{"hello world hello"}, 300)
	dir := t.TempDir()
	if err := b.WriteDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	tmpl, err := chat.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rows := readJSONL[map[string]any](t, "fixtures/qwen3/chat_template.jsonl")
	raw, err := os.ReadFile(fixture.Path(t, "fixtures/qwen3/chat_template.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	for i := range min(20, len(rows)) {
		v, err := pyjson.Unmarshal(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		o := v.(*pyjson.Object)
		msgs, _ := o.Get("messages")
		tools, _ := o.Get("tools")
		agp, _ := o.Get("add_generation_prompt")
		opt := chat.Options{AddGenerationPrompt: agp == true}
		if et, ok := o.Get("enable_thinking"); ok && et != nil {
			b := et == true
			opt.EnableThinking = &b
		}
		tl, _ := tools.([]any)
		got, err := tmpl.Render(msgs.([]any), tl, opt)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if want := rows[i]["text"].(string); got != want {
			t.Fatalf("row %d renders differently with the trained directory's template", i)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json.tmp")); !os.IsNotExist(err) {
		t.Error("temporary file left behind")
	}
}

// TestTrainSeparateSpace: with SeparateSpace no merge takes a word's leading
// space, so a word is one and the same token after a space and after a
// quote; the result still round-trips and encodes as training counted.
func TestTrainSeparateSpace(t *testing.T) {
	texts := append(trainCorpus(t), strings.Repeat(`Weather in Boston, please: {"city": "Boston"}. `, 20))
	tr := NewTrainer()
	for _, s := range texts {
		tr.Add(s)
	}
	b, err := tr.Train(context.Background(), TrainOptions{VocabSize: 1000, SeparateSpace: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range b.Merges {
		if m[0] == "Ġ" && m[1] != "Ġ" && !strings.HasPrefix(m[1], "Ġ") {
			t.Fatalf("merge %q takes a leading space", m)
		}
	}
	dir := t.TempDir()
	if err := b.WriteDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tokens int64
	for i, s := range texts {
		ids := tok.Encode(s)
		if got, want := tok.Decode(ids), norm.NFC.String(s); got != want {
			t.Fatalf("text %d does not round-trip", i)
		}
		for _, id := range ids {
			if !slices.ContainsFunc(b.Added, func(a AddedToken) bool { return a.ID == id }) {
				tokens++
			}
		}
	}
	if tokens != b.Tokens {
		t.Errorf("encodes to %d tokens, training ended with %d", tokens, b.Tokens)
	}
	boston, ok := tok.TokenID("Boston")
	if !ok {
		t.Fatal(`"Boston" is not one token`)
	}
	for _, s := range []string{" Boston", `"Boston"`} {
		if ids := tok.Encode(s); !slices.Contains(ids, boston) {
			t.Errorf("%q encodes to %v, without Boston's id %d", s, ids, boston)
		}
	}
}
