// The official `openai` npm package driving `star serve` (run by
// TestOpenAIClient, see `make test-openai`). The server serves the script
// model of serve/scriptmodel_test.go: after a chat prompt it always writes
//   <think>ok</think><tool_call>{"arguments":{"days":3},"name":"get_weather"}</tool_call><|im_end|>
// and after a token it does not know, every token is equally likely.
import assert from "node:assert/strict";
import OpenAI from "openai";

const baseURL = process.env.STAR_URL;
const apiKey = process.env.STAR_API_KEY;
const model = process.env.STAR_MODEL;
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

const tools = [{
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather forecast",
    parameters: { type: "object", properties: { days: { type: "integer" } }, required: ["days"] },
  },
}];
const messages = [{ role: "user", content: "Weather for the next 3 days?" }];
const chainLength = 18; // tokens of the script, <|im_end|> included

const tests = {
  async models() {
    const list = await client.models.list();
    assert.deepEqual(list.data.map((m) => m.id), [model]);
  },

  async chatToolCall() {
    const r = await client.chat.completions.create({ model, messages, tools, tool_choice: "auto" });
    const c = r.choices[0];
    assert.equal(c.finish_reason, "tool_calls");
    assert.equal(c.message.role, "assistant");
    assert.equal(c.message.content, null);
    assert.equal(c.message.reasoning_content, "ok");
    assert.equal(c.message.tool_calls.length, 1);
    const call = c.message.tool_calls[0];
    assert.equal(call.type, "function");
    assert.match(call.id, /^call_/);
    assert.equal(call.function.name, "get_weather");
    assert.equal(typeof call.function.arguments, "string");
    assert.deepEqual(JSON.parse(call.function.arguments), { days: 3 });
    assert.equal(r.usage.completion_tokens, chainLength);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + chainLength);
  },

  async chatToolResultTurn() {
    // The call and its result sent back, as an agent loop does.
    const first = await client.chat.completions.create({ model, messages, tools });
    const call = first.choices[0].message.tool_calls[0];
    const r = await client.chat.completions.create({
      model, tools, max_completion_tokens: 40,
      messages: [...messages, first.choices[0].message, { role: "tool", tool_call_id: call.id, content: '{"forecast": "sunny"}' }],
    });
    assert.equal(r.choices[0].message.tool_calls[0].function.name, "get_weather");
  },

  async streamToolCallsHelper() {
    // The SDK's stream helper accumulates deltas and checks their shapes.
    const stream = client.chat.completions.stream({ model, messages, tools, stream_options: { include_usage: true } });
    const names = [];
    stream.on("tool_calls.function.arguments.done", (e) => names.push(e.name));
    const final = await stream.finalChatCompletion();
    const c = final.choices[0];
    assert.equal(c.finish_reason, "tool_calls");
    assert.equal(c.message.tool_calls[0].function.name, "get_weather");
    assert.deepEqual(JSON.parse(c.message.tool_calls[0].function.arguments), { days: 3 });
    assert.deepEqual(names, ["get_weather"]);
    assert.equal(final.usage.completion_tokens, chainLength);
  },

  async streamRawChunks() {
    const stream = await client.chat.completions.create({ model, messages, tools, stream: true, n: 2, stream_options: { include_usage: true } });
    const acc = {};
    let usage = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      if (chunk.usage) usage = chunk.usage;
      for (const ch of chunk.choices) {
        const a = (acc[ch.index] ??= { role: "", reasoning: "", content: "", args: "", name: "", finish: null });
        if (ch.delta.role) a.role = ch.delta.role;
        a.reasoning += ch.delta.reasoning_content ?? "";
        a.content += ch.delta.content ?? "";
        for (const tc of ch.delta.tool_calls ?? []) {
          assert.equal(tc.index, 0);
          a.name += tc.function?.name ?? "";
          a.args += tc.function?.arguments ?? "";
        }
        if (ch.finish_reason) a.finish = ch.finish_reason;
      }
    }
    assert.deepEqual(Object.keys(acc).sort(), ["0", "1"]);
    for (const a of Object.values(acc)) {
      assert.deepEqual(a, { role: "assistant", reasoning: "ok", content: "", args: '{"days": 3}', name: "get_weather", finish: "tool_calls" });
    }
    assert.equal(usage.completion_tokens, 2 * chainLength);
  },

  async chatLogprobs() {
    const r = await client.chat.completions.create({ model, messages, tools, logprobs: true, top_logprobs: 3 });
    const lp = r.choices[0].logprobs.content;
    assert.equal(lp.length, chainLength);
    assert.equal(lp[0].token, "<think>");
    for (const e of lp) {
      assert.ok(e.logprob <= 0 && e.logprob > -1e-3, `logprob ${e.logprob}`);
      assert.equal(e.top_logprobs.length, 3);
      assert.equal(e.top_logprobs[0].token, e.token);
      assert.ok(Array.isArray(e.bytes));
    }
    // vLLM's return_tokens_as_token_ids
    const r2 = await client.chat.completions.create({ model, messages, tools, logprobs: true, top_logprobs: 1, return_tokens_as_token_ids: true });
    assert.equal(r2.choices[0].logprobs.content[0].token, "token_id:151667");
  },

  async nChoicesSampled() {
    const r = await client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], n: 3, temperature: 1, seed: 5 });
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
    for (const c of r.choices) assert.equal(c.message.role, "assistant");
  },

  async completionsTokenIds() {
    // [198, <think>] → "ok</think>..." (greedy)
    const r = await client.completions.create({ model, prompt: [198, 151667], max_tokens: 3, temperature: 0, logprobs: 2, echo: true, prompt_logprobs: 2 });
    const c = r.choices[0];
    assert.equal(c.text, "\n<think>ok</think><tool_call>");
    assert.equal(c.finish_reason, "length");
    assert.equal(c.logprobs.tokens.length, 5);
    assert.equal(c.logprobs.token_logprobs[0], null);
    // vLLM's prompt_logprobs: null, then token id → {logprob, rank, decoded_token}
    assert.equal(c.prompt_logprobs.length, 2);
    assert.equal(c.prompt_logprobs[0], null);
    const e = c.prompt_logprobs[1]["151667"];
    assert.equal(e.rank, 1);
    assert.equal(e.decoded_token, "<think>");
    assert.ok(e.logprob > -1e-3);
    // A batch of token-id prompts, n = 2 each.
    const b = await client.completions.create({ model, prompt: [[198], [271]], max_tokens: 2, temperature: 0, n: 2 });
    assert.deepEqual(b.choices.map((c) => [c.index, c.text]), [[0, "<think>ok"], [1, "<think>ok"], [2, '<tool_call>{"'], [3, '<tool_call>{"']]);
  },

  async completionsStream() {
    const stream = await client.completions.create({ model, prompt: "Hello", max_tokens: 7, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "", finish = null, usage = null;
    for await (const chunk of stream) {
      for (const ch of chunk.choices) {
        text += ch.text;
        if (ch.finish_reason) finish = ch.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, "!!!!!!!");
    assert.equal(finish, "length");
    assert.equal(usage.completion_tokens, 7);
  },

  async stopSequences() {
    const r = await client.completions.create({ model, prompt: [198], temperature: 0, stop: ["</think>"] });
    assert.equal(r.choices[0].text, "<think>ok");
    assert.equal(r.choices[0].finish_reason, "stop");
  },

  async errors() {
    const expectError = async (cls, status, param, fn) => {
      try {
        await fn();
      } catch (e) {
        assert.ok(e instanceof cls, `${e.constructor.name}: ${e.message}`);
        assert.equal(e.status, status);
        if (param !== undefined) assert.equal(e.param, param);
        assert.ok(e.error?.message, "error.message");
        return;
      }
      assert.fail(`no ${cls.name}`);
    };
    await expectError(OpenAI.BadRequestError, 400, "model", () => client.chat.completions.create({ model: "gpt-4o", messages }));
    await expectError(OpenAI.BadRequestError, 400, "n", () => client.chat.completions.create({ model, messages, n: 1000 }));
    await expectError(OpenAI.BadRequestError, 400, "top_logprobs", () => client.chat.completions.create({ model, messages, logprobs: true, top_logprobs: 99 }));
    await expectError(OpenAI.BadRequestError, 400, "messages[0].role", () => client.chat.completions.create({ model, messages: [{ role: "wizard", content: "x" }] }));
    await expectError(OpenAI.BadRequestError, 400, "tools[0].function.name", () =>
      client.chat.completions.create({ model, messages, tools: [{ type: "function", function: { parameters: {} } }] }));
    await expectError(OpenAI.BadRequestError, 400, "prompt", () => client.completions.create({ model, prompt: [1, 999999999] }));
    const bad = new OpenAI({ baseURL, apiKey: "wrong", maxRetries: 0 });
    await expectError(OpenAI.AuthenticationError, 401, undefined, () => bad.models.list());
  },
};

let failed = 0;
for (const [name, fn] of Object.entries(tests)) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  }
}
console.log(failed ? `${failed} of ${Object.keys(tests).length} failed` : `all ${Object.keys(tests).length} passed`);
process.exit(failed ? 1 : 0);
