#!/usr/bin/env python3
"""Cut the Qwen3 tokenizer down to a benchmark model's vocabulary, so that
`star export gguf` can write a GGUF file for llama.cpp (it carries a
tokenizer with one entry per embedding row). Keeps the ids below V-3 and the
merges among them, and renumbers <|endoftext|>, <|im_start|>, <|im_end|> to
the last three ids. Only the benchmark uses it: the text it would tokenize
is never looked at.

  python3 bench/gguf_tokenizer.py SRC_DIR DST_DIR VOCAB
"""
import json, sys
src, dst, V = sys.argv[1], sys.argv[2], int(sys.argv[3])
tok = json.load(open(src + "/tokenizer.json"))
specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
keep = V - len(specials)
m = tok["model"]
m["vocab"] = {s: i for s, i in m["vocab"].items() if i < keep}
def parts(p):
    return p if isinstance(p, list) else p.split(" ", 1)
m["merges"] = [p for p in m["merges"] if all(x in m["vocab"] for x in parts(p)) and "".join(parts(p)) in m["vocab"]]
added = []
for a in tok["added_tokens"]:
    if a["content"] in specials:
        a["id"] = keep + specials.index(a["content"])
        added.append(a)
tok["added_tokens"] = added
json.dump(tok, open(dst + "/tokenizer.json", "w"))
tc = json.load(open(src + "/tokenizer_config.json"))
tc["added_tokens_decoder"] = {str(a["id"]): {k: v for k, v in a.items() if k != "id"} for a in added}
json.dump(tc, open(dst + "/tokenizer_config.json", "w"))
