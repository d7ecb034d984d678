package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"testing"
)

func pieces(p *splitPattern, s string) []string {
	var out []string
	p.split(s, func(x string) { out = append(out, x) })
	return out
}

// TestSplitGolden compares the hand-written matcher with the V8 regex engine
// (testdata/split_golden.jsonl, made by testdata/gen_split_golden.mjs) on
// random strings, for the Qwen2/3, Llama-3 and GPT-2 patterns.
func TestSplitGolden(t *testing.T) {
	f, err := os.Open("testdata/split_golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pats := map[string]*splitPattern{"qwen2": splitQwen2, "llama3": splitLlama3, "gpt2": splitGPT2}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var r struct {
			Pattern string   `json:"pattern"`
			Text    string   `json:"text"`
			Pieces  []string `json:"pieces"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		n++
		if got := pieces(pats[r.Pattern], r.Text); !slices.Equal(got, r.Pieces) {
			t.Errorf("%s %q:\n got  %q\n want %q", r.Pattern, r.Text, got, r.Pieces)
		}
	}
	if n != 1200 {
		t.Fatalf("read %d golden rows, want 1200", n)
	}
}

func TestSplitTable(t *testing.T) {
	for _, c := range []struct {
		p    *splitPattern
		in   string
		want []string
	}{
		{splitQwen2, "Hello, my dog's cute", []string{"Hello", ",", " my", " dog", "'s", " cute"}},
		{splitQwen2, "I'M here'LL", []string{"I", "'M", " here", "'LL"}},
		{splitGPT2, "I'M here'll", []string{"I", "'", "M", " here", "'ll"}},
		{splitQwen2, "12345", []string{"1", "2", "3", "4", "5"}},
		{splitLlama3, "12345", []string{"123", "45"}},
		{splitGPT2, "a 12345", []string{"a", " 12345"}},
		{splitQwen2, "  \n  x", []string{"  \n", " ", " x"}},
		{splitQwen2, "a  ", []string{"a", "  "}},
		{splitQwen2, "a  b", []string{"a", " ", " b"}},
		{splitQwen2, "a \t1", []string{"a", " ", "\t", "1"}},
		{splitQwen2, "x.\n\ny", []string{"x", ".\n\n", "y"}},
		{splitGPT2, "x.\n\ny", []string{"x", ".", "\n", "\n", "y"}},
		{splitQwen2, "\ttabs", []string{"\ttabs"}},
		{splitQwen2, "\nline", []string{"\n", "line"}},
		{splitQwen2, "a\u00a0b", []string{"a", "\u00a0b"}},
		{splitQwen2, "it\u017f", []string{"it\u017f"}},
		{splitQwen2, "it'\u017f", []string{"it", "'\u017f"}},   // (?i) 's matches U+017F LONG S
		{splitQwen2, "\xff\xfeab", []string{"\xff\xfe", "ab"}}, // invalid bytes are "other"
		{splitQwen2, "", nil},
	} {
		if got := pieces(c.p, c.in); !slices.Equal(got, c.want) {
			t.Errorf("%s %q: got %q, want %q", c.p.name, c.in, got, c.want)
		}
	}
}
