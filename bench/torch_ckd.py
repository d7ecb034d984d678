#!/usr/bin/env python3
"""PyTorch peer of train/bench_test.go: SFT and CKD training steps on the
`star bench train` shape (float32, eager), for a tokens/s ratio.

  python3 bench/torch_ckd.py sft [--threads 1] [--steps 5]
  python3 bench/torch_ckd.py ckd [--threads 1] [--steps 5] [--k 100 --tail-lambda 10]

Each step: 4 sequences × 256 tokens, loss on the last 128 (the target),
backward, clip 1.0, AdamW. CKD is STAR's loss (STAR-SPEC §7): forward KL
on the teacher's top-k (random, fixed per step, not renormalised) plus λ ×
the student's probability over its own top-M tokens outside the teacher's
top-k. Prints one line per step and a last line `tokens/s: N` (median of the
timed steps after one warm-up step). The model is bench/torch_qwen3.py's.
"""
import argparse, math, os, statistics, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_qwen3 import Qwen3  # noqa: E402


def random_topk(B, T, K, V):
    ids = torch.stack([torch.randperm(V)[:K] for _ in range(B * T)]).view(B, T, K)
    j = torch.arange(K).float()
    p = torch.exp(-0.05 * j * (1 + 0.1 * torch.rand(B, T, K)))
    p = 0.9 * p / p.sum(-1, keepdim=True)
    vals, _ = torch.sort(p.log(), dim=-1, descending=True)
    return vals, ids


def ckd_loss(logits, vals, ids, mask, lam, M):
    ls = F.log_softmax(logits, -1)
    lsk = ls.gather(-1, ids)
    fkl = (vals.exp() * (vals - lsk)).sum(-1)
    top = ls.topk(M, -1).indices
    outside = ~(top.unsqueeze(-1) == ids.unsqueeze(-2)).any(-1)
    pen = (ls.gather(-1, top).exp() * outside).sum(-1)
    per = fkl + lam * pen
    return (per * mask).sum() / mask.sum()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["sft", "ckd"])
    for name, d in [("vocab", 8192), ("hidden", 256), ("layers", 4), ("heads", 8), ("kv-heads", 2),
                    ("head-dim", 32), ("intermediate", 768), ("seq", 256), ("batch", 4), ("steps", 5),
                    ("threads", 1), ("k", 100)]:
        p.add_argument("--" + name, type=int, default=d)
    p.add_argument("--tail-lambda", type=float, default=10.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = Qwen3(a)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    B, S, P = a.batch, a.seq, a.seq // 2
    rates = []
    for step in range(a.steps + 1):
        ids = torch.randint(0, a.vocab, (B, S))
        mask = torch.zeros(B, S - 1)
        mask[:, P - 1:] = 1  # rows t-1 score tokens t ≥ P (the target)
        if a.mode == "ckd":
            vals, tids = random_topk(B, S - 1, a.k, a.vocab)
        t0 = time.perf_counter()
        logits = m(ids)[:, :-1]
        if a.mode == "sft":
            nll = F.cross_entropy(logits.reshape(-1, a.vocab), ids[:, 1:].reshape(-1), reduction="none").view(B, S - 1)
            loss = (nll * mask).sum() / mask.sum()
        else:
            loss = ckd_loss(logits, vals, tids, mask, a.tail_lambda, a.k)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        rate = B * S / dt
        if step > 0:
            rates.append(rate)
        print(f"step {step}: loss {loss.item():.4f} {dt:.2f}s {rate:.0f} tokens/s", flush=True)
    print(f"tokens/s: {statistics.median(rates):.0f}")


if __name__ == "__main__":
    sys.exit(main())
