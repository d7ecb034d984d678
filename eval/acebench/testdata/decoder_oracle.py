"""Random answer strings through ACEBench's decode_ast (run once by hand).

    python3 decoder_oracle.py ACEBENCH_CHECKOUT decoder.jsonl

Rows {text, result} or {text, error: true}; result is the decoded list of
calls with tuples written as {"__tuple__": [...]} and bytes as
{"__bytes__": "..."}.
"""
import json, random, sys, warnings

warnings.simplefilter("ignore")
ATOMS = ["1", "-2", "3.5", "1e3", "0x1F", "1_000", "'a'", '"b c"', "'it\\'s'", '"q\\"x"', "'\\n\\t'", "'\\u00e9'", "r'\\d'",
         "True", "False", "None", "true", "null", "x", "...", "b'z'", "'é'", "+1", "not False", "1+2", "'a'*2", "2**3",
         "7//2", "-7//2", "7%-3", "1/4", "'x' 'y'", "[]", "{}", "()", "(1,)", "a.b", "a[0]", "f()", "f(k=1)", "lambda: 1",
         "1 if x else 2", "1 < 2", "{1}", "[1, [2, 3]]", "{'k': [1, {'z': None}]}", "{'a': 1, **d}", "(1, 'a')", "007", "1__0",
         "'unterminated", "[1, 2", "x y", "--1", "-(1)", "-x", "1j", "f'{x}'", "[i for i in y]", "* x", "{1: 2}"]
NAMES = ["f", "g.h", "a.b.c", "Api_call", "x1"]


def gen(rnd):
    calls = []
    for _ in range(rnd.randint(0, 3)):
        name = rnd.choice(NAMES)
        args = []
        for j in range(rnd.randint(0, 3)):
            v = rnd.choice(ATOMS)
            if rnd.random() < 0.2:
                v = "[" + ", ".join(rnd.choice(ATOMS) for _ in range(rnd.randint(0, 3))) + "]"
            if rnd.random() < 0.1:
                args.append(v)  # positional
            else:
                args.append(f"{rnd.choice(['k', 'p', 'q_1', 'k'])}={v}")
        calls.append(f"{name}({rnd.choice([', ', ','])}".replace(", ", "", 1) if False else f"{name}(" + rnd.choice([", ", ","]).join(args) + ")")
    sep = rnd.choice([", ", ",", " ,\n "])
    body = sep.join(calls)
    wrap = rnd.random()
    if wrap < 0.75:
        return "[" + body + "]"
    if wrap < 0.85:
        return body + ","
    if wrap < 0.92:
        return "{" + body + "}"
    return body


def enc(v):
    if isinstance(v, tuple):
        return {"__tuple__": [enc(x) for x in v]}
    if isinstance(v, bytes):
        return {"__bytes__": v.decode("latin-1")}
    if isinstance(v, list):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            raise TypeError("non-string key")
        return {k: enc(x) for k, x in v.items()}
    if isinstance(v, complex):
        raise TypeError("complex")
    return v


def main():
    sys.path.insert(0, sys.argv[1])
    from model_inference.utils import decode_ast
    rnd = random.Random(11)
    n = 0
    with open(sys.argv[2], "w") as f:
        while n < 3000:
            text = gen(rnd)
            row = {"text": text}
            try:
                row["result"] = enc(decode_ast("m", text))
            except TypeError as e:
                if str(e) in ("non-string key", "complex"):
                    continue  # values our JSON-based model cannot hold
                row["error"] = True
            except BaseException:
                row["error"] = True
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1


main()
