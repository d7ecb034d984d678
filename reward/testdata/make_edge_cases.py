#!/usr/bin/env python3
"""Write simrl_edge_cases.jsonl: randomized edge cases scored by STAR's
original simrl.py, the oracle for the Python semantics the Go reward copies
(json.loads edge cases, == across bool/int/float, str(), dict-key hashing,
list/str arguments, crashes that abort a batch).

Run once, from this directory:

    git show 100a498ce977ad45c864127b8e160bf56d7875d5:simrl.py > simrl.py   # github.com/Qwen-Applications/STAR
    apt-get install python3-nltk python3-torch   # torch is only imported
    /usr/bin/python3 make_edge_cases.py > simrl_edge_cases.jsonl
    rm simrl.py

rouge_score is not packaged for Debian; a stand-in with rouge_score 0.1.2's
rougeL (its tokenizer and LCS, NLTK's PorterStemmer) is installed into
sys.modules below. (ROUGE itself is checked by the 262 reference vectors.)
Each row: {prompt, label, query, ok, reward|answer|format: {t: python type,
v: repr}} or {ok: false, error: exception type}.
"""
import json, random, sys, types, math, contextlib, io, re, collections
from nltk.stem import porter

# --- rouge_score stand-in (rougeL of rouge_score 0.1.2, use_stemmer=True) ---
_stemmer = porter.PorterStemmer()
_Score = collections.namedtuple("Score", "precision recall fmeasure")


def _tokens(text):
    text = re.sub(r"[^a-z0-9]+", " ", text.lower())
    toks = [_stemmer.stem(x) if len(x) > 3 else x for x in re.split(r"\s+", text)]
    return [x for x in toks if re.match(r"^[a-z0-9]+$", x)]


def _lcs(a, b):
    t = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            t[i][j] = t[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(t[i - 1][j], t[i][j - 1])
    return t[-1][-1]


class _RougeScorer:
    def __init__(self, types, use_stemmer=False):
        pass

    def score(self, target, prediction):
        a, b = _tokens(target), _tokens(prediction)
        if not a or not b:
            return {"rougeL": _Score(0, 0, 0.0)}
        n = _lcs(a, b)
        p, r = n / len(b), n / len(a)
        return {"rougeL": _Score(p, r, 2 * p * r / (p + r) if p + r > 0 else 0.0)}


_rs = types.ModuleType("rouge_score")
_rs.rouge_scorer = types.SimpleNamespace(RougeScorer=_RougeScorer)
sys.modules["rouge_score"] = _rs
sys.modules["rouge_score.rouge_scorer"] = _rs.rouge_scorer
sys.path.insert(0, ".")
import simrl  # noqa: E402  (the original, beside this script)

simrl.torch = types.SimpleNamespace(tensor=lambda xs, dtype=None: list(xs), Tensor=object, float=None)

R = random.Random()
WORDS = "Paris paris new york city running runs ran generalization generalizations weather forecast the a of 2022-12-25 celsius fahrenheit hello world caf\u00e9 \u0130stanbul \u212aelvin happy happiness sky skies dying".split()
WS = [" ", "\n", "\t", "\u3000", "\x1c", "\u00a0", "\u200b", ""]

def rstr():
    k = R.random()
    if k < 0.1: return ""
    if k < 0.15: return R.choice(WS) * R.randint(1, 3)
    return R.choice(WS[:3]).join(R.choice(WORDS) for _ in range(R.randint(1, 5)))

def rscalar():
    return R.choice([0, 1, -1, 2, 3, 1.0, 0.0, 2.5, 1e16, 2**53, 2**53 + 1, float(2**53), 2**70, True, False, None,
                     float('nan'), float('inf'), "1", "1.0", "True", "None", "3", rstr(), rstr()])

def rvalue(d=0):
    k = R.random()
    if d < 2 and k < 0.12: return [rvalue(d + 1) for _ in range(R.randint(0, 3))]
    if d < 2 and k < 0.22: return {R.choice("abc"): rvalue(d + 1) for _ in range(R.randint(0, 3))}
    return rscalar()

PARAMS = ["city", "days", "unit", "query", "limit", "a", "b", "c", "properties", "type"]
NAMES = ["weather", "search", "book", "f", "g"]

def rparams():
    keys = R.sample(PARAMS, R.randint(0, 4))
    k = R.random()
    props = {p: {"type": "string"} for p in keys}
    if k < 0.5: return {"type": R.choice(["object", "dict", None, "object"]), "properties": props, "required": keys[:1]}
    if k < 0.75: return props
    if k < 0.8: return {"properties": props}
    if k < 0.85: return {"type": "object", "properties": R.choice([[1], "x", None, props])}
    if k < 0.9: return R.choice([keys, ["properties"], [1, "a"]])
    if k < 0.95: return R.choice(["abc", "cityday", "properties", ""])
    return R.choice([None, 5, True])

def rtools():
    tools = []
    for _ in range(R.randint(0, 4)):
        name = R.choice(NAMES) if R.random() < 0.93 else R.choice([1, True, 1.0, None, ["f"]])
        t = {"name": name, "description": rstr(), "parameters": rparams()}
        if R.random() < 0.03: del t["parameters"]
        tools.append(t)
    return tools

def rprompt(tools):
    lines = [json.dumps(t, ensure_ascii=R.random() < 0.5) for t in tools]
    if R.random() < 0.03: lines.append(R.choice(["{bad", "[1]", "3", '"s"', '{"name": "x", "parameters": {}}{']))
    block = "<tools>\n" + "\n".join(lines) + "\n</tools>"
    p = "<|im_start|>system\n# Tools\n\n" + (block if R.random() < 0.95 else "") + "<|im_end|>\n<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>"
    return p

def rargs(tools, name):
    params = None
    for t in tools:
        if t.get("name") == name: params = t.get("parameters")
    keys = []
    if isinstance(params, dict):
        pr = params.get("properties")
        keys = list(pr.keys()) if isinstance(pr, dict) and params.get("type") is not None else list(params.keys())
    k = R.random()
    if k < 0.8:
        ks = [x for x in keys if R.random() < 0.7]
        if R.random() < 0.15: ks.append(R.choice(PARAMS))
        return {x: rvalue() for x in ks}
    if k < 0.88: return [R.choice(keys + [0, 1, "a"]) for _ in range(R.randint(0, 2))]
    if k < 0.94: return R.choice(["", "a", "ab", "city"])
    return R.choice([None, 3, True])

def rcall(tools):
    names = [t["name"] for t in tools if isinstance(t.get("name"), str)] or NAMES
    name = R.choice(names) if R.random() < 0.9 else R.choice(NAMES + [1, True, ["f"]])
    c = {"name": name, "arguments": rargs(tools, name)}
    if R.random() < 0.03: del c["arguments"]
    if R.random() < 0.02: del c["name"]
    return c

def calls_text(calls, noisy):
    out = []
    for c in calls:
        body = json.dumps(c, ensure_ascii=R.random() < 0.5)
        if noisy and R.random() < 0.08:
            body = R.choice([body[:-1], body + ",", body.replace('"', "'"), "[1]", '"x"', "", body + " "])
        out.append("<tool_call>\n" + body + "\n</tool_call>")
    return "\n".join(out)

def rlabel(tools):
    if R.random() < 0.25:
        return "</think>" + rstr() + "<|im_end|>\n"
    calls = [rcall(tools) for _ in range(R.randint(1, 3))]
    l = "</think>" + calls_text(calls, False) + "<|im_end|>\n"
    if R.random() < 0.02: l = l.replace("</think>", "")
    if R.random() < 0.02: l = "</think><tool_call> broken" + "<|im_end|>\n"
    return l, calls

def rgen(tools, label_calls):
    think = R.choice(["\nI will call the tools.\n", "", "x"]) + "</think>"
    k = R.random()
    if k < 0.05: think = "no close"
    elif k < 0.08: think = "a</think><think>b</think>"
    elif k < 0.1: think = "a</think> b </think>"
    if label_calls and R.random() < 0.5:
        calls = [dict(c) for c in label_calls]
        R.shuffle(calls)
        for c in calls:
            if R.random() < 0.4 and isinstance(c.get("arguments"), dict):
                a = dict(c["arguments"])
                for key in list(a):
                    r = R.random()
                    if r < 0.3: a[key] = rvalue()
                    elif r < 0.4: del a[key]
                c["arguments"] = a
        if R.random() < 0.2: calls.append(rcall(tools))
        if R.random() < 0.2 and calls: calls.pop()
    elif R.random() < 0.7:
        calls = [rcall(tools) for _ in range(R.randint(0, 3))]
    else:
        return "\n" + think + "\n\n" + rstr() + "<|im_end|>"
    g = "\n" + think + "\n\n" + calls_text(calls, True) + "<|im_end|>"
    if R.random() < 0.03: g = g.replace("</tool_call><|im_end|>", "<|im_end|>")
    return g

def cases(n):
    for i in range(n):
        tools = rtools()
        prompt = rprompt(tools)
        lab = rlabel(tools)
        label, lcalls = (lab, []) if isinstance(lab, str) else lab
        gen = rgen(tools, lcalls)
        if R.random() < 0.3 and not isinstance(lab, str) and R.random() < 0.5:
            label = "</think>" + rstr() + "<|im_end|>\n"
        query = prompt + gen
        if R.random() < 0.02: query = prompt + "junk<|im_start|>assistant\n<think>" + gen
        row = {"prompt": prompt, "label": label, "query": query}
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                out = simrl.reward_func([query], [prompt], [label], print_info=False)
            v = lambda x: {"t": type(x).__name__, "v": repr(x)}
            row.update(ok=True, reward=v(out["rewards"][0]), answer=v(out["scores"][0]), format=v(out["extra_logs"]["format_rewards"][0]))
        except Exception as e:
            row.update(ok=False, error=type(e).__name__ + ": " + str(e)[:200])
        yield row


def cls(r):
    if not r["ok"]:
        return "err:" + r["error"].split(":")[0]
    return r["reward"]["t"] + (":neg" if r["reward"]["v"] == "-1" else ":x")


def main():
    rows = []
    for seed in (2, 3, 4, 5, 6):
        R.seed(seed)
        rows += list(cases(6000))
    random.Random(7).shuffle(rows)
    quota = {"float:x": 200, "int:neg": 50, "int:x": 70, "err:ValueError": 50, "err:AttributeError": 12, "err:TypeError": 12}
    count = collections.Counter()
    for r in rows:
        c = cls(r)
        if count[c] < quota.get(c, 0):
            count[c] += 1
            if not r["ok"]:
                r["error"] = r["error"].split(":")[0]
            print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
