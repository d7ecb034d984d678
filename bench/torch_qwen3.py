#!/usr/bin/env python3
"""PyTorch baseline for `star bench`: the same Qwen3 shapes, float32, eager.

  python3 bench/torch_qwen3.py train    [--vocab 8192 --hidden 256 ... --seq 256 --batch 4 --steps 5] [--bf16]
  python3 bench/torch_qwen3.py generate [shape flags] --batch 1 --prompt-len 128 --new-tokens 128

--bf16: the training step's forward under torch.autocast("cpu", bfloat16),
the loss in float32 (PyTorch's mixed precision: float32 weights and AdamW),
the peer of star's opt-in AMX bf16 products (GOMLX_SGEMM_BF16=amx).

Prints one line per step and a last line `tokens/s: N` (median of timed
training steps after one warm-up step; decode tokens after the prefill).
A minimal HF-style Qwen3 (RMSNorm, q/k norm, RoPE, GQA, SwiGLU), written
here so it needs nothing but torch.
"""
import argparse, math, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), -1)


class Layer(nn.Module):
    def __init__(s, a):
        super().__init__()
        H, D = a.hidden, a.head_dim
        s.nh, s.nkv, s.D = a.heads, a.kv_heads, D
        s.input_layernorm, s.post_attention_layernorm = RMSNorm(H), RMSNorm(H)
        s.q_proj = nn.Linear(H, a.heads * D, bias=False)
        s.k_proj = nn.Linear(H, a.kv_heads * D, bias=False)
        s.v_proj = nn.Linear(H, a.kv_heads * D, bias=False)
        s.o_proj = nn.Linear(a.heads * D, H, bias=False)
        s.q_norm, s.k_norm = RMSNorm(D), RMSNorm(D)
        s.gate_proj = nn.Linear(H, a.intermediate, bias=False)
        s.up_proj = nn.Linear(H, a.intermediate, bias=False)
        s.down_proj = nn.Linear(a.intermediate, H, bias=False)

    def forward(s, x, cos, sin, cache=None, pos0=0):
        B, T, _ = x.shape
        h = s.input_layernorm(x)
        q = s.q_norm(s.q_proj(h).view(B, T, s.nh, s.D)).transpose(1, 2)
        k = s.k_norm(s.k_proj(h).view(B, T, s.nkv, s.D)).transpose(1, 2)
        v = s.v_proj(h).view(B, T, s.nkv, s.D).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:
            cache[0][:, :, pos0:pos0 + T] = k
            cache[1][:, :, pos0:pos0 + T] = v
            k, v = cache[0][:, :, :pos0 + T], cache[1][:, :, :pos0 + T]
        g = s.nh // s.nkv
        k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
        # torch 1.13 (Debian) has no scaled_dot_product_attention: spell it out.
        sc = (q @ k.transpose(-1, -2)) / math.sqrt(s.D)
        if T > 1:  # training or prefill from position 0: causal
            sc = sc + torch.full((T, T), float("-inf")).triu(1)
        o = sc.softmax(-1) @ v
        x = x + s.o_proj(o.transpose(1, 2).reshape(B, T, -1))
        h = s.post_attention_layernorm(x)
        return x + s.down_proj(F.silu(s.gate_proj(h)) * s.up_proj(h))


class Qwen3(nn.Module):
    def __init__(s, a):
        super().__init__()
        s.a = a
        s.embed_tokens = nn.Embedding(a.vocab, a.hidden)
        s.layers = nn.ModuleList(Layer(a) for _ in range(a.layers))
        s.norm = RMSNorm(a.hidden)
        s.lm_head = nn.Linear(a.hidden, a.vocab, bias=False)
        inv = 1.0 / (1e6 ** (torch.arange(0, a.head_dim, 2).float() / a.head_dim))
        s.register_buffer("inv", inv, persistent=False)

    def rope(s, pos):
        f = pos[:, None].float() * s.inv[None, :]
        e = torch.cat((f, f), -1)
        return e.cos(), e.sin()

    def forward(s, ids, caches=None, pos0=0):
        T = ids.shape[1]
        cos, sin = s.rope(torch.arange(pos0, pos0 + T))
        x = s.embed_tokens(ids)
        for i, l in enumerate(s.layers):
            x = l(x, cos, sin, None if caches is None else caches[i], pos0)
        return s.lm_head(s.norm(x))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "generate"])
    for name, d in [("vocab", 8192), ("hidden", 256), ("layers", 4), ("heads", 8), ("kv-heads", 2),
                    ("head-dim", 32), ("intermediate", 768), ("seq", 256), ("batch", 4), ("steps", 5),
                    ("prompt-len", 128), ("new-tokens", 128), ("threads", 2)]:
        p.add_argument("--" + name, type=int, default=d)
    p.add_argument("--bf16", action="store_true", help="train under bfloat16 autocast")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = Qwen3(a)
    if a.mode == "train":
        decay = [p for n, p in m.named_parameters() if "norm.weight" not in n and "bias" not in n]
        nodecay = [p for n, p in m.named_parameters() if "norm.weight" in n or "bias" in n]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": nodecay, "weight_decay": 0.0}],
                                lr=1e-4, betas=(0.9, 0.95), eps=1e-8)
        rates = []
        for step in range(a.steps + 1):
            ids = torch.randint(0, a.vocab, (a.batch, a.seq))
            t0 = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
                logits = m(ids)
            loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
            dt = time.perf_counter() - t0
            rate = a.batch * a.seq / dt
            if step > 0:
                rates.append(rate)
            print(f"step {step}: loss {loss.item():.4f} {dt:.2f}s {rate:.0f} tokens/s", flush=True)
        print(f"tokens/s: {statistics.median(rates):.0f}")
    else:
        m.eval()
        with torch.no_grad():
            ids = torch.randint(0, a.vocab, (a.batch, a.prompt_len))
            S = a.prompt_len + a.new_tokens
            def run(n):
                caches = [(torch.zeros(a.batch, a.kv_heads, S, a.head_dim), torch.zeros(a.batch, a.kv_heads, S, a.head_dim))
                          for _ in range(a.layers)]
                logits = m(ids, caches, 0)
                tok = logits[:, -1].argmax(-1, keepdim=True)
                t0 = time.perf_counter()
                for i in range(1, n):
                    logits = m(tok, caches, a.prompt_len + i - 1)
                    tok = logits[:, -1].argmax(-1, keepdim=True)
                return time.perf_counter() - t0
            run(3)  # warm-up
            dt = run(a.new_tokens)
            n = a.batch * (a.new_tokens - 1)
            print(f"decode: {n} tokens in {dt:.2f}s")
            print(f"tokens/s: {n / dt:.0f}")


if __name__ == "__main__":
    sys.exit(main())
