package reward

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestStemMatchesNLTK checks Stem against NLTK 3.8's PorterStemmer on every
// word of testdata/porter_nltk.tsv (made once by make_porter_fixture.py).
func TestStemMatchesNLTK(t *testing.T) {
	f, err := os.Open("testdata/porter_nltk.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, bad := 0, 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		word, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad fixture line %q", line)
		}
		n++
		if got := Stem(word); got != want {
			bad++
			if bad <= 20 {
				t.Errorf("Stem(%q) = %q, NLTK %q", word, got, want)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 50000 {
		t.Fatalf("only %d fixture words", n)
	}
	if bad > 0 {
		t.Errorf("%d of %d words differ from NLTK", bad, n)
	}
}

func TestStemExamples(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"caresses", "caress"}, {"ponies", "poni"}, {"ties", "tie"}, {"dies", "die"},
		{"skies", "sky"}, {"dying", "die"}, {"news", "news"}, {"proceed", "proceed"},
		{"agreed", "agre"}, {"feed", "feed"}, {"plastered", "plaster"}, {"hopping", "hop"},
		{"filing", "file"}, {"falling", "fall"}, {"happy", "happi"}, {"enjoy", "enjoy"},
		{"relational", "relat"}, {"generalizations", "gener"}, {"hopefully", "hope"},
		{"geology", "geolog"}, {"controll", "control"}, {"2022", "2022"}, {"at", "at"},
	} {
		if got := Stem(c.in); got != c.want {
			t.Errorf("Stem(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
