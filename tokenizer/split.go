package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// splitPattern is a hand-written matcher for the family of GPT-style split
// regexes used by byte-level BPE tokenizers. It reproduces the leftmost-first,
// greedy-with-backtracking semantics of the regex (as Oniguruma / fancy-regex
// evaluate it) for the alternatives
//
//	contractions            '(s|t|re|ve|m|ll|d), optionally case-insensitive
//	letters                 ` ?\p{L}+` (GPT-2) or `[^\r\n\p{L}\p{N}]?\p{L}+`
//	numbers                 `\p{N}`, `\p{N}{1,3}` or ` ?\p{N}+`
//	punctuation             ` ?[^\s\p{L}\p{N}]+`, optionally followed by `[\r\n]*`
//	newline run             `\s*[\r\n]+` (optional)
//	whitespace              `\s+(?!\S)` then `\s+`
//
// Classes follow Unicode: \p{L} = general category L, \p{N} = category N,
// \s = the White_Space property. Invalid UTF-8 bytes are treated as one-byte
// characters outside all three classes.
type splitPattern struct {
	name string
	// caseInsensitive: (?i:'s|'t|...) instead of 's|'t|...
	caseInsensitive bool
	// anyLetterPrefix: [^\r\n\p{L}\p{N}]?\p{L}+ instead of ` ?\p{L}+`.
	anyLetterPrefix bool
	// maxDigits: 1 for \p{N}, 3 for \p{N}{1,3}, 0 for ` ?\p{N}+`.
	maxDigits int
	// punctNewlines: punctuation runs absorb a following [\r\n]*.
	punctNewlines bool
	// newlineRun: the `\s*[\r\n]+` alternative is present.
	newlineRun bool
}

// Known patterns, keyed by the exact regex string found in tokenizer.json.
const (
	patQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patGPT2   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

var (
	splitQwen2  = &splitPattern{name: "qwen2", caseInsensitive: true, anyLetterPrefix: true, maxDigits: 1, punctNewlines: true, newlineRun: true}
	splitLlama3 = &splitPattern{name: "llama3", caseInsensitive: true, anyLetterPrefix: true, maxDigits: 3, punctNewlines: true, newlineRun: true}
	splitGPT2   = &splitPattern{name: "gpt2"}
)

var knownPatterns = map[string]*splitPattern{
	patQwen2:  splitQwen2,
	patLlama3: splitLlama3,
	patGPT2:   splitGPT2,
}

// Character classes.
const (
	clsOther  uint8 = iota // none of the below
	clsLetter              // \p{L}
	clsNumber              // \p{N}
	clsSpace               // \s other than \r and \n
	clsNL                  // \r or \n (also \s)
)

var asciiClass [128]uint8

func init() {
	for c := 0; c < 128; c++ {
		r := rune(c)
		switch {
		case r == '\r' || r == '\n':
			asciiClass[c] = clsNL
		case unicode.IsLetter(r):
			asciiClass[c] = clsLetter
		case unicode.IsNumber(r):
			asciiClass[c] = clsNumber
		case unicode.IsSpace(r):
			asciiClass[c] = clsSpace
		}
	}
}

// classAt returns the class and byte width of the character at s[i] (i < len(s)).
func classAt(s string, i int) (uint8, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && w == 1 {
		return clsOther, 1
	}
	switch {
	case unicode.IsLetter(r):
		return clsLetter, w
	case unicode.IsNumber(r):
		return clsNumber, w
	case unicode.IsSpace(r): // Go's IsSpace is exactly the White_Space property.
		return clsSpace, w
	}
	return clsOther, w
}

func isSpaceClass(c uint8) bool { return c == clsSpace || c == clsNL }

// next returns the end of the piece that starts at s[i] (i < len(s)); the
// result is always > i.
func (p *splitPattern) next(s string, i int) int {
	n := len(s)
	c0, w0 := classAt(s, i)

	// Contractions.
	if s[i] == '\'' && i+1 < n {
		if e := p.contraction(s, i+1); e > 0 {
			return e
		}
	}

	switch c0 {
	case clsLetter:
		return p.letters(s, i+w0)
	case clsNumber:
		j := i + w0
		if p.maxDigits == 0 {
			return p.numbers(s, j, 0)
		}
		return p.numbers(s, j, p.maxDigits-1)
	}

	// Optional one-character prefix before letters / numbers.
	if i+w0 < n {
		c1, w1 := classAt(s, i+w0)
		if c1 == clsLetter {
			if p.anyLetterPrefix {
				if c0 != clsNL { // [^\r\n\p{L}\p{N}]
					return p.letters(s, i+w0+w1)
				}
			} else if s[i] == ' ' {
				return p.letters(s, i+w0+w1)
			}
		}
		if p.maxDigits == 0 && s[i] == ' ' && c1 == clsNumber {
			return p.numbers(s, i+w0+w1, 0)
		}
		// ` ?[^\s\p{L}\p{N}]+`: a space followed by punctuation.
		if s[i] == ' ' && c1 == clsOther {
			return p.punct(s, i+w0+w1)
		}
	}
	if c0 == clsOther {
		return p.punct(s, i+w0)
	}

	// Whitespace: c0 is clsSpace or clsNL. Find the maximal run [i, j) and the
	// end of the last \r or \n in it.
	j, lastNL := i, -1
	for j < n {
		c, w := classAt(s, j)
		if !isSpaceClass(c) {
			break
		}
		j += w
		if c == clsNL {
			lastNL = j
		}
	}
	if p.newlineRun && lastNL > 0 {
		return lastNL // \s*[\r\n]+ backtracks to the last newline
	}
	if j == n {
		return j // \s+(?!\S) at end of text
	}
	// \s+(?!\S): give back the last whitespace character if that leaves one.
	_, lw := utf8.DecodeLastRuneInString(s[i:j])
	if j-lw > i {
		return j - lw
	}
	return j // \s+
}

func (p *splitPattern) contraction(s string, k int) int {
	n := len(s)
	c := s[k]
	if p.caseInsensitive && c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	lower := func(j int) byte {
		b := s[j]
		if p.caseInsensitive && b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		return b
	}
	switch c {
	case 's', 't', 'm', 'd':
		return k + 1
	case 'r':
		if k+1 < n && lower(k+1) == 'e' {
			return k + 2
		}
	case 'v':
		if k+1 < n && lower(k+1) == 'e' {
			return k + 2
		}
	case 'l':
		if k+1 < n && lower(k+1) == 'l' {
			return k + 2
		}
	case 0xC5:
		// U+017F LATIN SMALL LETTER LONG S case-folds to 's'.
		if p.caseInsensitive && k+1 < n && s[k+1] == 0xBF {
			return k + 2
		}
	}
	return 0
}

func (p *splitPattern) letters(s string, j int) int {
	for j < len(s) {
		c, w := classAt(s, j)
		if c != clsLetter {
			break
		}
		j += w
	}
	return j
}

// numbers extends a number run from j by up to max more digits (max 0 = no limit).
func (p *splitPattern) numbers(s string, j, max int) int {
	if p.maxDigits != 0 && max == 0 {
		return j
	}
	for k := 0; j < len(s); k++ {
		if p.maxDigits != 0 && k == max {
			break
		}
		c, w := classAt(s, j)
		if c != clsNumber {
			break
		}
		j += w
	}
	return j
}

func (p *splitPattern) punct(s string, j int) int {
	for j < len(s) {
		c, w := classAt(s, j)
		if c != clsOther {
			break
		}
		j += w
	}
	if p.punctNewlines {
		for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
	}
	return j
}

// split calls f for every piece of s in order; the pieces cover s exactly.
func (p *splitPattern) split(s string, f func(piece string)) {
	for i := 0; i < len(s); {
		e := p.next(s, i)
		f(s[i:e])
		i = e
	}
}
