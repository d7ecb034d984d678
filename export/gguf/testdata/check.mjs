// Runs GGUF files through llama.cpp (node-llama-cpp's prebuilt CPU binaries)
// for export/gguf's TestLlamaCpp: node check.mjs SPEC.json > RESULT.json
//
// SPEC: {"models": [{"path", "prompts": [[ids]], "new_tokens": N, "logprobs_out": FILE}],
//        "tokenize": {"model": GGUF, "texts": [string]}}
// RESULT: {"models": [{"path", "n_vocab", "greedy": [[ids]]}],
//          "tokenize": {"ids": [[ids]], "text": [string], "special": {...}}}
// For every prompt and position, logprobs_out receives llama.cpp's
// log-softmax over the whole vocabulary as little-endian float32 rows.
// Node-llama-cpp exposes no raw logits, but with greedy sampling its
// probabilities are the softmax of the raw logits, so log-probs give the
// logits up to one constant per row. The assertions are in the Go test.
import fs from "node:fs";
import {getLlama} from "node-llama-cpp";

const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const result = {models: []};

for (const m of spec.models) {
    const start = Date.now();
    const model = await llama.loadModel({modelPath: m.path, gpuLayers: 0});
    // F32 KV cache and no flash attention: F16 caches would cost 1e-3 in logits.
    const context = await model.createContext({
        contextSize: 256, batchSize: 256, threads: 2, flashAttention: false,
        experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
    });
    const seq = context.getSequence();
    const out = {path: m.path, greedy: []};
    const fd = fs.openSync(m.logprobs_out, "w");
    for (const prompt of m.prompts) {
        await seq.clearHistory();
        const res = await seq.controlledEvaluate(prompt.map((t) => [t, {generateNext: {probabilities: true}}]));
        for (let i = 0; i < prompt.length; i++) {
            const probs = res[i]?.next?.probabilities;
            if (!probs) throw new Error(`${m.path}: no probabilities at position ${i}`);
            const row = new Float32Array(probs.size); // greedy: every token
            row.fill(-Infinity);
            for (const [tok, p] of probs) row[tok] = Math.log(p);
            out.n_vocab = row.length;
            fs.writeSync(fd, Buffer.from(row.buffer));
        }
        await seq.clearHistory();
        const gen = [];
        for await (const t of seq.evaluate(prompt, {temperature: 0})) {
            gen.push(t);
            if (gen.length >= m.new_tokens) break;
        }
        out.greedy.push(gen);
    }
    fs.closeSync(fd);
    console.error(`${m.path}: ${Date.now() - start} ms`);
    result.models.push(out);
    await context.dispose();
    if (spec.tokenize?.model !== m.path) await model.dispose();
    else result.tokenize = tokenize(model, spec.tokenize.texts);
}

process.stdout.write(JSON.stringify(result));

function tokenize(model, texts) {
    // true: special and added tokens written in the text are matched, as in the fixture.
    const ids = texts.map((t) => Array.from(model.tokenize(t, true)));
    const text = ids.map((x) => model.detokenize(x, true));
    // What llama.cpp made of the special-token metadata.
    const t = model.tokens;
    const special = {bos: t.bos, eos: t.eos, eot: t.eot, nl: t.nl, prepend_bos: t.shouldPrependBosToken};
    special.eog = [151643, 151645, 151667, 9707].filter((id) => model.isEogToken(id));
    special.control = [151643, 151644, 151645, 151657, 151667, 9707].filter((id) => model.isSpecialToken(id));
    return {ids, text, special};
}
