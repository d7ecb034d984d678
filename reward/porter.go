package reward

// The Porter stemmer as NLTK's PorterStemmer implements it in its default
// mode (NLTK_EXTENSIONS), which is what rouge_score 0.1.2 uses with
// use_stemmer=True. The NLTK extensions to Porter's 1980 algorithm:
//
//   - a pool of irregular forms (skies → sky, dying → die, news → news, ...);
//   - words of one or two letters are returned unchanged;
//   - "ies"/"ied" on a four-letter word become "ie" (dies → die), longer
//     words lose "es"/"ed" to "i" (flies → fli, spied → spi);
//   - step 1c turns y into i only after a consonant that is not the
//     first letter (happy → happi, enjoy → enjoy, sky via the pool);
//   - step 2 applies alli → al first and re-runs step 2, uses bli → ble
//     rather than abli → able, and adds fulli → ful and logi → log (with the
//     l counted into the stem);
//   - "*o" (ends consonant-vowel-consonant) also holds for a two-letter
//     vowel-consonant stem.
//
// Stem is checked against NLTK itself on ~52,000 words
// (testdata/porter_nltk.tsv).

// irregular is NLTK_EXTENSIONS' pool of irregular forms.
var irregular = map[string]string{
	"sky": "sky", "skies": "sky",
	"dying":   "die",
	"lying":   "lie",
	"tying":   "tie",
	"news":    "news",
	"innings": "inning", "inning": "inning",
	"outings": "outing", "outing": "outing",
	"cannings": "canning", "canning": "canning",
	"howe":    "howe",
	"proceed": "proceed",
	"exceed":  "exceed",
	"succeed": "succeed",
}

// Stem returns NLTK PorterStemmer().stem(word) for a word of lowercase ASCII
// letters and digits, the only tokens rouge_score hands it. Other bytes are
// treated as consonants, as NLTK treats any non-vowel.
func Stem(word string) string {
	if s, ok := irregular[word]; ok {
		return s
	}
	if len(word) <= 2 {
		return word
	}
	var buf [64]byte
	w := append(buf[:0], word...)
	w = stemBytes(w)
	return string(w)
}

// stemBytes runs steps 1a to 5b on w in place (w may grow by a byte or two;
// the result may share w's array). The pool and the short-word rule are the
// caller's.
func stemBytes(w []byte) []byte {
	w = step1a(w)
	w = step1b(w)
	w = step1c(w)
	w = step2(w)
	w = step3(w)
	w = step4(w)
	w = step5a(w)
	w = step5b(w)
	return w
}

// isCons is NLTK's _is_consonant: not a vowel, and y only when it starts the
// word or follows a vowel.
func isCons(w []byte, i int) bool {
	switch w[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		// y is a consonant at the start or after a vowel.
		return i == 0 || !isCons(w, i-1)
	}
	return true
}

// measure is m in [C](VC)^m[V]: the number of vowel→consonant transitions.
func measure(w []byte) int {
	m := 0
	prevVowel := false
	for i := range w {
		c := isCons(w, i)
		if c && prevVowel {
			m++
		}
		prevVowel = !c
	}
	return m
}

func containsVowel(w []byte) bool {
	for i := range w {
		if !isCons(w, i) {
			return true
		}
	}
	return false
}

func endsDoubleCons(w []byte) bool {
	n := len(w)
	return n >= 2 && w[n-1] == w[n-2] && isCons(w, n-1)
}

// endsCVC is *o: consonant-vowel-consonant where the last is not w, x or y
// (NLTK extension: or a two-letter vowel-consonant word).
func endsCVC(w []byte) bool {
	n := len(w)
	if n >= 3 && isCons(w, n-3) && !isCons(w, n-2) && isCons(w, n-1) {
		switch w[n-1] {
		case 'w', 'x', 'y':
		default:
			return true
		}
	}
	return n == 2 && !isCons(w, 0) && isCons(w, 1)
}

func hasSuffix(w []byte, s string) bool {
	return len(w) >= len(s) && string(w[len(w)-len(s):]) == s
}

// replace swaps the suffix of length n for repl.
func replace(w []byte, n int, repl string) []byte {
	return append(w[:len(w)-n], repl...)
}

// rule is one (suffix, replacement, condition) of NLTK's _apply_rule_list;
// cond gets the word with the suffix removed (nil: unconditional).
type rule struct {
	suffix, repl string
	cond         func(stem []byte) bool
}

// applyRules applies the first rule whose suffix matches; if its condition
// fails the word is returned unchanged and no later rule is tried.
func applyRules(w []byte, rules []rule) []byte {
	for i := range rules {
		r := &rules[i]
		if hasSuffix(w, r.suffix) {
			stem := w[:len(w)-len(r.suffix)]
			if r.cond == nil || r.cond(stem) {
				return append(stem, r.repl...)
			}
			return w
		}
	}
	return w
}

func mGT0(stem []byte) bool { return measure(stem) > 0 }
func mGT1(stem []byte) bool { return measure(stem) > 1 }

var step1aRules = []rule{
	{"sses", "ss", nil},
	{"ies", "i", nil},
	{"ss", "ss", nil},
	{"s", "", nil},
}

func step1a(w []byte) []byte {
	if len(w) == 4 && hasSuffix(w, "ies") {
		return replace(w, 3, "ie")
	}
	return applyRules(w, step1aRules)
}

func step1b(w []byte) []byte {
	if hasSuffix(w, "ied") {
		if len(w) == 4 {
			return replace(w, 3, "ie")
		}
		return replace(w, 3, "i")
	}
	if hasSuffix(w, "eed") {
		if measure(w[:len(w)-3]) > 0 {
			return replace(w, 3, "ee")
		}
		return w
	}
	var stem []byte
	switch {
	case hasSuffix(w, "ed") && containsVowel(w[:len(w)-2]):
		stem = w[:len(w)-2]
	case hasSuffix(w, "ing") && containsVowel(w[:len(w)-3]):
		stem = w[:len(w)-3]
	default:
		return w
	}
	switch {
	case hasSuffix(stem, "at"):
		return append(stem, 'e')
	case hasSuffix(stem, "bl"):
		return append(stem, 'e')
	case hasSuffix(stem, "iz"):
		return append(stem, 'e')
	case endsDoubleCons(stem):
		switch stem[len(stem)-1] {
		case 'l', 's', 'z':
			return stem
		}
		return stem[:len(stem)-1]
	case measure(stem) == 1 && endsCVC(stem):
		return append(stem, 'e')
	}
	return stem
}

func step1c(w []byte) []byte {
	n := len(w)
	if n > 0 && w[n-1] == 'y' {
		// the stem (w without y) must be longer than one letter and end in
		// a consonant
		if n-1 > 1 && isCons(w, n-2) {
			w[n-1] = 'i'
		}
	}
	return w
}

var step2Rules = []rule{
	{"ational", "ate", mGT0},
	{"tional", "tion", mGT0},
	{"enci", "ence", mGT0},
	{"anci", "ance", mGT0},
	{"izer", "ize", mGT0},
	{"bli", "ble", mGT0},
	{"alli", "al", mGT0},
	{"entli", "ent", mGT0},
	{"eli", "e", mGT0},
	{"ousli", "ous", mGT0},
	{"ization", "ize", mGT0},
	{"ation", "ate", mGT0},
	{"ator", "ate", mGT0},
	{"alism", "al", mGT0},
	{"iveness", "ive", mGT0},
	{"fulness", "ful", mGT0},
	{"ousness", "ous", mGT0},
	{"aliti", "al", mGT0},
	{"iviti", "ive", mGT0},
	{"biliti", "ble", mGT0},
	{"fulli", "ful", mGT0},
	// The l of logi counts in the stem: measure(word[:-3]).
	{"logi", "log", func(stem []byte) bool { return measure(stem[:len(stem)+1]) > 0 }},
}

func step2(w []byte) []byte {
	for hasSuffix(w, "alli") && measure(w[:len(w)-4]) > 0 {
		w = replace(w, 4, "al")
	}
	return applyRules(w, step2Rules)
}

var step3Rules = []rule{
	{"icate", "ic", mGT0},
	{"ative", "", mGT0},
	{"alize", "al", mGT0},
	{"iciti", "ic", mGT0},
	{"ical", "ic", mGT0},
	{"ful", "", mGT0},
	{"ness", "", mGT0},
}

func step3(w []byte) []byte { return applyRules(w, step3Rules) }

var step4Rules = []rule{
	{"al", "", mGT1},
	{"ance", "", mGT1},
	{"ence", "", mGT1},
	{"er", "", mGT1},
	{"ic", "", mGT1},
	{"able", "", mGT1},
	{"ible", "", mGT1},
	{"ant", "", mGT1},
	{"ement", "", mGT1},
	{"ment", "", mGT1},
	{"ent", "", mGT1},
	{"ion", "", func(stem []byte) bool {
		return measure(stem) > 1 && (stem[len(stem)-1] == 's' || stem[len(stem)-1] == 't')
	}},
	{"ou", "", mGT1},
	{"ism", "", mGT1},
	{"ate", "", mGT1},
	{"iti", "", mGT1},
	{"ous", "", mGT1},
	{"ive", "", mGT1},
	{"ize", "", mGT1},
}

func step4(w []byte) []byte { return applyRules(w, step4Rules) }

func step5a(w []byte) []byte {
	if hasSuffix(w, "e") {
		stem := w[:len(w)-1]
		m := measure(stem)
		if m > 1 || (m == 1 && !endsCVC(stem)) {
			return stem
		}
	}
	return w
}

func step5b(w []byte) []byte {
	if hasSuffix(w, "ll") && measure(w[:len(w)-1]) > 1 {
		return w[:len(w)-1]
	}
	return w
}
