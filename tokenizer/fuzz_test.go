package tokenizer

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzRoundTrip checks, for valid UTF-8 x, that the pre-tokenizer pieces
// cover NFC(x) exactly, that both BPE merge loops agree on every piece, and
// that Decode(Encode(x)) == NFC(x) (NFC-equivalent when x holds added tokens,
// which are matched before normalization as in HF). Seeds: testdata/fuzz/FuzzRoundTrip.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "Hello, world!", "<|im_start|>user\nhi<|im_end|>", "e\u0301\u0338<think>x"} {
		f.Add(s)
	}
	tok := qwen3(f)
	f.Fuzz(func(t *testing.T, x string) {
		if !utf8.ValidString(x) {
			return
		}
		n := norm.NFC.String(x)
		ps := tok.Split(x)
		if strings.Join(ps, "") != n {
			t.Fatalf("pieces %q do not cover %q", ps, n)
		}
		ws := new(workspace)
		for _, p := range ps {
			if p == "" {
				t.Fatalf("empty piece in %q", ps)
			}
			if len(p) > 256 { // mergeSmall is quadratic; TestMergeLoopsAgree covers long words
				continue
			}
			ids := make([]int32, len(p))
			for i := 0; i < len(p); i++ {
				ids[i] = tok.model.byteID[p[i]]
			}
			a := slices.Clone(tok.model.mergeSmall(slices.Clone(ids), ws))
			b := tok.model.mergeLarge(slices.Clone(ids), ws)
			if !slices.Equal(a, b) {
				t.Fatalf("merge loops disagree on %q: %v vs %v", p, a, b)
			}
		}
		got := tok.Decode(tok.Encode(x))
		if st, _, _ := tok.rawMatcher.find(x, 0); st < 0 {
			if got != n {
				t.Fatalf("Decode(Encode(%q)) = %q, want %q", x, got, n)
			}
		} else if norm.NFC.String(got) != n {
			t.Fatalf("Decode(Encode(%q)) = %q, not NFC-equivalent", x, got)
		}
	})
}
