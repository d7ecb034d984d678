package reward

import "unicode/utf8"

// ROUGE-L F1 as rouge_score 0.1.2 computes it with use_stemmer=True:
// lowercase, every run of characters outside [a-z0-9] becomes a space, split
// on spaces, Porter-stem (NLTK) every token longer than 3 characters, then
// precision = LCS/len(prediction), recall = LCS/len(target),
// F = 2PR/(P+R), and 0 when either side has no tokens.

// rouge holds the buffers of one scorer; it is not safe for concurrent use.
type rouge struct {
	text  []byte            // lowercased text, tokens delimited
	ids   map[string]int32  // token interning for one comparison
	stems map[string]string // stem cache, kept across calls (bounded)
	a, b  []int32           // token ids of target and prediction
	row   []int32           // LCS dynamic-programming row
}

// maxStemCache bounds the stem cache; it is cleared when it grows past this.
const maxStemCache = 1 << 16

func newRouge() *rouge {
	return &rouge{ids: map[string]int32{}, stems: map[string]string{}}
}

// tokens appends the ids of s's rouge tokens to dst.
func (r *rouge) tokens(dst []int32, s string) []int32 {
	// Lowercase into text, mapping everything outside [a-z0-9] to a space.
	// Python's str.lower() maps two non-ASCII characters onto ASCII letters:
	// U+0130 (İ) → "i̇" (i + combining dot) and U+212A (Kelvin) → "k".
	t := r.text[:0]
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			t = append(t, c)
			i++
		case c >= 'A' && c <= 'Z':
			t = append(t, c+'a'-'A')
			i++
		case c < utf8.RuneSelf:
			t = append(t, ' ')
			i++
		default:
			ru, n := utf8.DecodeRuneInString(s[i:])
			switch ru {
			case 0x130:
				t = append(t, 'i', ' ')
			case 0x212A:
				t = append(t, 'k')
			default:
				t = append(t, ' ')
			}
			i += n
		}
	}
	r.text = t
	for i := 0; i < len(t); {
		if t[i] == ' ' {
			i++
			continue
		}
		j := i
		for j < len(t) && t[j] != ' ' {
			j++
		}
		tok := t[i:j]
		i = j
		var key string
		if len(tok) > 3 {
			st, ok := r.stems[string(tok)]
			if !ok {
				if len(r.stems) >= maxStemCache {
					clear(r.stems)
				}
				w := string(tok)
				st = Stem(w)
				r.stems[w] = st
			}
			key = st
		} else {
			key = string(tok) // short: not stemmed
		}
		id, ok := r.ids[key]
		if !ok {
			id = int32(len(r.ids))
			r.ids[key] = id
		}
		dst = append(dst, id)
	}
	return dst
}

// f1 is rouge_score's rougeL fmeasure of prediction against target.
func (r *rouge) f1(target, prediction string) float64 {
	clear(r.ids)
	r.a = r.tokens(r.a[:0], target)
	r.b = r.tokens(r.b[:0], prediction)
	if len(r.a) == 0 || len(r.b) == 0 {
		return 0
	}
	lcs := r.lcs(r.a, r.b)
	precision := float64(lcs) / float64(len(r.b))
	recall := float64(lcs) / float64(len(r.a))
	if precision+recall > 0 {
		return 2 * precision * recall / (precision + recall)
	}
	return 0
}

// lcs is the length of the longest common subsequence of a and b.
func (r *rouge) lcs(a, b []int32) int {
	if cap(r.row) < len(b)+1 {
		r.row = make([]int32, len(b)+1)
	}
	row := r.row[:len(b)+1]
	clear(row)
	for _, x := range a {
		var diag int32 // row[j-1] of the previous pass
		for j, y := range b {
			up := row[j+1]
			switch {
			case x == y:
				row[j+1] = diag + 1
			case row[j] > up:
				row[j+1] = row[j]
			}
			diag = up
		}
	}
	return int(row[len(b)])
}
