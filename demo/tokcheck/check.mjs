// Independent check of a tokenizer written by `star tokenizer train`: load
// the directory with two JavaScript implementations of HF tokenizers
// (@huggingface/tokenizers, the tokenizer of transformers.js, and
// @lenml/tokenizers) and compare their ids with the Go tokenizer's.
//
// usage (from this folder, after `npm install`):
//   star tokenizer train CORPUS.jsonl -o TOKDIR --vocab-size 2048
//   star tokenize --model TOKDIR CORPUS.jsonl -o GOIDS.jsonl
//   node check.mjs TOKDIR CORPUS.jsonl GOIDS.jsonl
//
// CORPUS.jsonl holds {"text"} lines, GOIDS.jsonl the matching {"ids"}.
// Exits 1 on any difference in ids or in the decoded text.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { TokenizerLoader } from "@lenml/tokenizers";

const [dir, corpus, goIDs] = process.argv.slice(2);
if (!goIDs) {
  console.error("usage: node check.mjs TOKDIR CORPUS.jsonl GOIDS.jsonl");
  process.exit(2);
}
const lines = (f) => readFileSync(f, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const tokJSON = JSON.parse(readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
const tokCfg = JSON.parse(readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
const texts = lines(corpus).map((r) => r.text);
const want = lines(goIDs).map((r) => r.ids);
if (texts.length !== want.length) {
  console.error(`${corpus} has ${texts.length} texts, ${goIDs} ${want.length} rows`);
  process.exit(1);
}

const version = (pkg) => JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), "utf8")).version;
const loaders = [
  {
    name: `@huggingface/tokenizers ${version("@huggingface/tokenizers")}`,
    tok: new Tokenizer(tokJSON, tokCfg),
    encode(t) { return this.tok.encode(t, { add_special_tokens: false }).ids; },
    decode(ids) { return this.tok.decode(ids, { skip_special_tokens: false }); },
  },
  {
    name: `@lenml/tokenizers ${version("@lenml/tokenizers")}`,
    tok: TokenizerLoader.fromPreTrained({ tokenizerJSON: tokJSON, tokenizerConfig: tokCfg }),
    encode(t) { return this.tok.encode(t, { add_special_tokens: false }); },
    decode(ids) { return this.tok.decode(ids, { skip_special_tokens: false }); },
  },
];

let failed = false;
for (const l of loaders) {
  let idDiff = 0, textDiff = 0, tokens = 0, first = -1;
  texts.forEach((t, i) => {
    const ids = Array.from(l.encode(t), Number);
    tokens += ids.length;
    if (ids.length !== want[i].length || ids.some((x, j) => x !== want[i][j])) {
      idDiff++;
      if (first < 0) first = i;
    }
    if (ids.length > 0 && l.decode(ids) !== t.normalize("NFC")) textDiff++;
  });
  console.log(`${l.name}: ${texts.length} texts, ${tokens} tokens; ids differing from Go: ${idDiff}; decode ≠ text: ${textDiff}`);
  if (first >= 0) console.log(`  first difference: text ${first}`);
  if (idDiff || textDiff) failed = true;
}
process.exit(failed ? 1 : 0);
