#!/usr/bin/env python3
"""Write porter_nltk.tsv: word<TAB>stem from NLTK's PorterStemmer (default
NLTK_EXTENSIONS mode), the stemmer rouge_score 0.1.2 uses.

Run once, from this directory, with Debian's python3-nltk and wamerican:

    apt-get install python3-nltk wamerican
    /usr/bin/python3 make_porter_fixture.py \
        /usr/share/dict/words ../../../shared/fixtures/simrl/reward_vectors.jsonl > porter_nltk.tsv

The words are what rouge_score feeds the stemmer: lowercase runs of [a-z0-9]
longer than 3 characters. Sources: every token of the reward vectors, a quarter of
the dictionary (a fixed hash picks which quarter), and generated words that hit
every suffix rule of every step.
"""
import hashlib
import json
import re
import sys

import nltk
from nltk.stem.porter import PorterStemmer

NON_ALNUM = re.compile(r"[^a-z0-9]+")


def tokens(text):
    return [t for t in NON_ALNUM.sub(" ", text.lower()).split() if len(t) > 3]


def main():
    dict_path, vectors_path = sys.argv[1], sys.argv[2]
    words = set()
    with open(vectors_path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            for k in ("prompt", "label", "generation"):
                words.update(tokens(row[k]))
    with open(dict_path, encoding="utf-8") as f:
        for line in f:
            for t in tokens(line):
                if hashlib.sha1(t.encode()).digest()[0] % 4 == 0:
                    words.add(t)
    suffixes = """sses ies ss s ied eed ed ing at bl iz ational tional enci anci izer
        bli abli alli entli eli ousli ization ation ator alism iveness fulness ousness
        aliti iviti biliti fulli logi icate ative alize iciti ical ful ness al ance ence
        er ic able ible ant ement ment ent ion sion tion ou ism ate iti ous ive ize e ll
        y ying ies ied eying lling ssing zzing tting ies s""".split()
    stems = """a b y e o i u ay ey oy by sky fly cry tr gener rel hop fil condit digit
        happ enjo sp d l t h ab eg ogl feed agr plaster bl siz tann fail fizz conflat
        form cont ros control roll excel electr analo geo theo archaeo philo vietnam
        rat wa ye yy yyy bo ba z zz 1 12 2022 a1 9x x9 y9 9y""".split()
    for s in stems:
        for x in suffixes:
            w = s + x
            if len(w) > 3:
                words.add(w)
            for y in ("s", "ed", "ing", "ly", "ness", "al"):
                if len(w + y) > 3:
                    words.add(w + y)
    words.update("""sky skies dying lying tying news innings inning outings outing
        cannings canning howe proceed exceed succeed dies died spies spied ties tied
        lies lied flies fly flying enjoy enjoyment happy happiness yyyy yeye eyey
        syzygy 2022 12345 1990s 3rd 21st 0000 a1b2 abcd1234 1234abcd generalizations
        oscillators radically feudalism relativity hopefully formaliti sensibiliti
        analogous fulli hopefulli logically geology theology archaeology phrenology
        allied ally rally tally bullying falling filling misspelling""".split())
    stemmer = PorterStemmer()
    sys.stdout.write("# nltk %s PorterStemmer (NLTK_EXTENSIONS)\n" % nltk.__version__)
    for w in sorted(words):
        sys.stdout.write("%s\t%s\n" % (w, stemmer.stem(w)))


if __name__ == "__main__":
    main()
