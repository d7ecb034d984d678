#!/usr/bin/env python3
"""bench/torch_qwen3.py's training step under bfloat16 autocast (CPU).

  python3 bench/torch_qwen3_bf16.py [shape flags as torch_qwen3.py] --threads 1

PyTorch's mixed-precision configuration, the peer of star's opt-in AMX bf16
products (GOMLX_SGEMM_BF16=amx): the same model and AdamW (float32 weights
and optimizer state), the forward under torch.autocast("cpu", bfloat16), the
loss in float32. Prints one line per step and a last line `tokens/s: N`
(median of the timed steps after one warm-up step).
"""
import argparse, os, statistics, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_qwen3 import Qwen3  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    for name, d in [("vocab", 8192), ("hidden", 256), ("layers", 4), ("heads", 8), ("kv-heads", 2),
                    ("head-dim", 32), ("intermediate", 768), ("seq", 256), ("batch", 4), ("steps", 5),
                    ("threads", 2)]:
        p.add_argument("--" + name, type=int, default=d)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = Qwen3(a)
    decay = [p for n, p in m.named_parameters() if "norm.weight" not in n and "bias" not in n]
    nodecay = [p for n, p in m.named_parameters() if "norm.weight" in n or "bias" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8)
    rates = []
    for step in range(a.steps + 1):
        ids = torch.randint(0, a.vocab, (a.batch, a.seq))
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16):
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


if __name__ == "__main__":
    main()
