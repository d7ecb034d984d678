// Makes train_hf_merges.json: the merges Hugging Face tokenizers' own
// BpeTrainer (Rust, npm package `tokenizers` 0.23.2) learns from the shared
// fixture texts, as the reference for TestTrainMatchesHF.
//
// usage: npm install tokenizers@0.23.2 (in a scratch folder), then
//   NODE_PATH=that/node_modules node train_hf_merges.js ../../../shared > train_hf_merges.json
//
// Corpus: every "text" of fixtures/qwen3/chat_template.jsonl then
// tokenize.jsonl, each with Qwen3's added tokens replaced by "\n" and a "\n"
// appended; HF trains on it line by line (each line keeps its "\n"). The
// tokenizer is Qwen3's pipeline (NFC, Split with the Qwen2 pattern,
// ByteLevel) with an empty BPE model, so train() uses BpeTrainer's defaults:
// min_frequency 0, vocab 30000 (more than the text can fill), no initial
// alphabet.
const fs = require("fs");
const os = require("os");
const path = require("path");
const { Tokenizer } = require("tokenizers");

const shared = process.argv[2];
const q = path.join(shared, "fixtures", "qwen3");
const tj = JSON.parse(fs.readFileSync(path.join(q, "tokenizer.json"), "utf8"));
const added = tj.added_tokens.map((a) => a.content);
let corpus = "";
for (const f of ["chat_template.jsonl", "tokenize.jsonl"]) {
  for (const line of fs.readFileSync(path.join(q, f), "utf8").split("\n")) {
    if (!line.trim()) continue;
    let t = JSON.parse(line).text;
    for (const a of added) t = t.split(a).join("\n");
    corpus += t + "\n";
  }
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hfbpe-"));
fs.writeFileSync(path.join(tmp, "corpus.txt"), corpus);
const cfg = {
  version: "1.0", truncation: null, padding: null, added_tokens: [],
  normalizer: tj.normalizer, pre_tokenizer: tj.pre_tokenizer, post_processor: tj.post_processor, decoder: tj.decoder,
  model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: {}, merges: [] },
};
const tok = Tokenizer.fromString(JSON.stringify(cfg));
tok.train([path.join(tmp, "corpus.txt")]);
tok.save(path.join(tmp, "out.json"), false);
const merges = JSON.parse(fs.readFileSync(path.join(tmp, "out.json"), "utf8")).model.merges;
fs.rmSync(tmp, { recursive: true });
process.stdout.write(JSON.stringify({ made_by: "tokenizers (npm) 0.23.2, BpeTrainer defaults", merges }) + "\n");
