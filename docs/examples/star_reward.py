"""STAR's Sim-RL reward, computed by the Go service (`star reward serve`).

Two entry points, both thin HTTP clients (standard library only):

* reward_func(queries, prompts, labels) -- OpenRLHF's custom reward file
  (`--remote_rm_url /path/to/star_reward.py`). Returns what STAR's simrl.py
  returns: float tensors "rewards", "scores" and "extra_logs"
  {"format_rewards", "answer_rewards"}.
* star_reward(prompts, completions, targets, **kwargs) -- a TRL GRPOTrainer
  reward function (dataset columns "prompt" = STAR inputs, "targets").

Environment: STAR_REWARD_URL (default http://127.0.0.1:8000/reward),
STAR_REWARD_TIMEOUT seconds (default 180).
"""

import json
import os
import time
import urllib.error
import urllib.request

URL = os.environ.get("STAR_REWARD_URL", "http://127.0.0.1:8000/reward")
TIMEOUT = float(os.environ.get("STAR_REWARD_TIMEOUT", "180"))
IM_END = "<|im_end|>"
IM_END_ID = 151645  # Qwen3


def score(queries, prompts, labels, tries=5):
    """POST one batch; returns the service's JSON reply as a dict."""
    body = json.dumps(
        {"query": list(queries), "prompts": list(prompts), "labels": list(labels)},
        ensure_ascii=False,
    ).encode("utf-8")
    req = urllib.request.Request(URL, data=body, headers={"Content-Type": "application/json"})
    last = None
    for _ in range(tries):
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            if 400 <= e.code < 500:  # the batch itself is wrong: retrying will not help
                raise RuntimeError(f"star reward service: HTTP {e.code}: {detail}") from None
            last = f"HTTP {e.code}: {detail}"
        except OSError as e:  # connection refused, reset, timeout
            last = repr(e)
        time.sleep(1)
    raise RuntimeError(f"star reward service at {URL} failed {tries} times: {last}")


def reward_func(queries, prompts, labels):
    """OpenRLHF: queries are prompt + response decoded with special tokens kept."""
    import torch

    out = score(queries, prompts, labels)
    as_tensor = lambda xs: torch.tensor(xs, dtype=torch.float)
    return {
        "rewards": as_tensor(out["rewards"]),
        "scores": as_tensor(out["scores"]),
        "extra_logs": {k: as_tensor(v) for k, v in out["extra_logs"].items()},
    }


def star_reward(prompts, completions, targets, completion_ids=None, **kwargs):
    """TRL GRPOTrainer: completions are decoded with skip_special_tokens=True,
    which drops the <|im_end|> that STAR's rewards see in a finished text
    reply; it is put back for completions that ended with it."""
    queries = []
    for i, (p, c) in enumerate(zip(prompts, completions)):
        if isinstance(c, list):  # conversational format: [{"role", "content"}]
            c = c[0]["content"]
        if completion_ids is not None and len(completion_ids[i]) and completion_ids[i][-1] == IM_END_ID:
            c += IM_END
        queries.append(p + c)
    return score(queries, prompts, targets)["rewards"]


if __name__ == "__main__":
    # Smoke test against a running service; prints {"rewards": [1.0], ...}.
    prompt = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>"
    print(score([prompt + "</think>Hello!<|im_end|>"], [prompt], ["</think>Hello!<|im_end|>\n"]))
