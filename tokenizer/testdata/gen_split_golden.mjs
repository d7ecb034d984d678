// Generates split_golden.jsonl: random strings split by the JavaScript
// (V8, /gu) regex engine with the Qwen2/3, Llama-3 and GPT-2 pre-tokenizer
// patterns, an independent reference for the hand-written matcher in
// split.go. JS lacks (?i:...) before Node 23, so the contraction group is
// spelled out with [sS] etc., and \s / \S are replaced by the Unicode
// White_Space class that HF's Oniguruma uses (JS's \s adds U+FEFF, lacks U+0085).
//
// usage: node gen_split_golden.mjs > split_golden.jsonl   (no dependencies)
const WS = "\\t\\n\\v\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
const ci = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const patterns = {
  qwen2: `${ci}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`,
  llama3: `${ci}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`,
  gpt2: `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+`,
};
// Character classes: [\s...] inside brackets must not be double-wrapped.
function compile(p) {
  let out = "";
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "\\" && (p[i + 1] === "s" || p[i + 1] === "S")) {
      // inside a bracket expression \s becomes the bare list, outside a full class
      const inBracket = out.lastIndexOf("[") > out.lastIndexOf("]");
      if (p[i + 1] === "s") out += inBracket ? WS : "[" + WS + "]";
      else out += "[^" + WS + "]";
      i++;
    } else out += p[i];
  }
  return new RegExp(out, "gu");
}

const pool = [
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
  ..."sStTrReEvVmMlLdD''''''",
  ..."0123456789",
  ..."           \t\t\n\n\n\r\r\v\f",
  ...".,;:!?-_()[]{}<>\"/\\@#$%^&*+=|~`",
  "\u00a0", "\u3000", "\u2003", "\u2028", "\u0085", "\u1680", "\u202f",
  "é", "ü", "ñ", "ß", "ø", "Ж", "я", "ω", "中", "文", "日", "本", "한", "ع", "ب", "א",
  "\u0301", "\u0308", "\u200d", "\u200b", "\ufeff",
  "²", "½", "Ⅻ", "٣", "३", "①",
  "😀", "👍", "🚀", "€", "™", "…", "—", "“", "”", "·",
];
let seed = 12345;
const rnd = (n) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const texts = [];
for (let k = 0; k < 400; k++) {
  const len = 1 + rnd(k < 200 ? 12 : 60);
  let s = "";
  for (let i = 0; i < len; i++) {
    if (rnd(6) === 0) {
      const runs = ["   ", "\n\n", " \n ", "\r\n", "'s", "'LL", "123456", "  \t", "...", " ,"];
      s += runs[rnd(runs.length)];
    } else s += pool[rnd(pool.length)];
  }
  texts.push(s);
}
for (const [name, p] of Object.entries(patterns)) {
  const re = compile(p);
  for (const text of texts) {
    const pieces = text.match(re) || [];
    if (pieces.join("") !== text) throw new Error(`${name}: pieces do not cover ${JSON.stringify(text)}`);
    console.log(JSON.stringify({ pattern: name, text, pieces }));
  }
}
