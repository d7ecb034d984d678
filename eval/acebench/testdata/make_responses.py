"""Builds the ACEBench responses the checker tests score (run once by hand).

    python3 make_responses.py DATA_DIR OUT.jsonl

Rows {id, result, case}: a right answer rendered from the ground truth in
ACEBench's [Func(key=value)] format, then variants that each exercise one
rule or leniency of its checker and decoder. The expected verdicts come from
ACEBench's own code (oracle.py).
"""
import glob, json, os, sys


def call(name, args, q="'"):
    parts = []
    for k, v in args.items():
        r = repr(v)
        if q == '"' and isinstance(v, str):
            r = json.dumps(v)
        parts.append(f"{k}={r}")
    return f"{name}({', '.join(parts)})"


def render(calls, q="'", sep=", "):
    return "[" + sep.join(call(n, a, q) for n, a in calls) + "]"


def strip_suffix(k):
    import re
    return re.sub(r"_\d+$", "", k)


def mutate(calls, fn):
    out = [(n, dict(a)) for n, a in calls]
    for n, a in out:
        for k, v in a.items():
            r = fn(v)
            if r is not None:
                a[k] = r
                return out
    return None


def variants(gt):
    alts = gt if isinstance(gt, list) else [gt]
    base = [(strip_suffix(k), v) for k, v in alts[0].items()]
    yield "right", render(base)
    if len(alts) > 1:
        yield "right_second_alternative", render([(strip_suffix(k), v) for k, v in alts[-1].items()])
    yield "text_around", "Sure, here you go: " + render(base) + " Let me know."
    yield "double_quotes", render(base, q='"')
    yield "newlines", render(base, sep=",\n  ")
    yield "dict_literal_args", "[" + ", ".join(f"{n}(**{a!r})" for n, a in base) + "]"
    for name, fn in [
        ("string_superset", lambda v: v + " and more" if isinstance(v, str) else None),
        ("string_upper", lambda v: v.upper() if isinstance(v, str) else None),
        ("string_wrong", lambda v: "zzz" if isinstance(v, str) else None),
        ("number_off", lambda v: v + 7 if isinstance(v, (int, float)) and not isinstance(v, bool) else None),
        ("number_as_string", lambda v: str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None),
        ("int_for_float", lambda v: int(v) if isinstance(v, float) else None),
        ("bool_flip", lambda v: (not v) if isinstance(v, bool) else None),
        ("bool_as_text", lambda v: ("true" if v else "false") if isinstance(v, bool) else None),
        ("list_reversed", lambda v: list(reversed(v)) if isinstance(v, list) and len(v) > 1 else None),
        ("list_extra", lambda v: v + [v[0]] if isinstance(v, list) and v else None),
        ("list_as_string", lambda v: ", ".join(map(str, v)) if isinstance(v, list) else None),
        ("dict_extra_key", lambda v: {**v, "zz": 1} if isinstance(v, dict) else None),
        ("dict_missing_key", lambda v: dict(list(v.items())[1:]) if isinstance(v, dict) and v else None),
        ("dict_value_changed", lambda v: {**v, next(iter(v)): "changed"} if isinstance(v, dict) and v else None),
        ("null_value", lambda v: None),
    ]:
        m = mutate(base, fn)
        if m is not None:
            yield name, render(m)
    n0, a0 = base[0]
    if a0:
        yield "missing_param", render([(n0, dict(list(a0.items())[1:]))] + base[1:])
    yield "extra_param", render([(n0, {**a0, "zz_extra": 1})] + base[1:])
    yield "wrong_name", render([(n0 + "X", a0)] + base[1:])
    yield "extra_call", render(base + [base[0]])
    if len(base) > 1:
        yield "missing_call", render(base[:-1])
        yield "reversed_order", render(list(reversed(base)))
    yield "no_args", render([(n, {}) for n, _ in base])
    yield "positional", "[" + n0 + "(" + ", ".join(repr(v) for v in a0.values()) + ")]"
    yield "free_text", "I am not able to do that."
    yield "empty_list", "[]"
    yield "unclosed", render(base)[:-2]
    yield "tuple_top", render(base)[1:-1] + ","
    yield "set_top", "{" + render(base)[1:-1] + "}"
    yield "not_a_call", "[" + n0 + "]"
    yield "bracket_in_string", "[" + n0 + "(q='[x')]"
    k0 = next(iter(a0), "x")
    for name, expr in [("binop", "1+2"), ("negative", "-5"), ("unary_plus", "+5"), ("not_true", "not True"),
                       ("name_value", "true"), ("none_value", "None"), ("attribute", "math.pi"), ("lambda", "lambda x: x"),
                       ("fstring", "f'{1}'"), ("comprehension", "[i for i in range(3)]"), ("subscript", "a[0]"),
                       ("nested_call", "g(a=1)"), ("tuple_value", "(1, 2)"), ("ellipsis", "..."), ("compare", "1 < 2"),
                       ("string_concat", "'ab' 'cd'"), ("escapes", r"'a\tb\u00e9\\'"), ("hex", "0x1F"), ("float_exp", "1e3"),
                       ("raw_string", r"r'a\nb'"), ("bytes", "b'x'"), ("dict_value", "{'a': [1, {'b': None}]}"),
                       ("set_value", "{1, 2}"), ("star_dict", "{**d}"), ("ternary", "1 if x else 2"), ("str_mult", "'ab' * 2")]:
        yield "expr_" + name, "[" + n0 + "(" + ", ".join(f"{k}={v!r}" if k != k0 else f"{k}={expr}" for k, v in a0.items()) + (f"{k0}={expr}" if not a0 else "") + ")]"


SPECIAL = {
    "special_incomplete": lambda gt: [("right", "[\"Missing necessary parameters (" + ", ".join(v for vs in gt.values() for v in vs) + ") for the api (" + next(iter(gt)) + ")\"]"),
                                      ("no_marker", "Please tell me more."), ("marker_no_name", "Missing necessary parameters (x)"),
                                      ("marker_missing_value", "Missing necessary parameters () for the api (" + next(iter(gt)) + ")")],
    "special_error_param": lambda gt: [("right", "[\"There is incorrect value (" + ", ".join(map(str, (v for vs in gt.values() for v in vs))) + ") for the parameters (" + next(iter(gt)) + ") in the conversation history.\"]"),
                                       ("no_marker", "Looks fine."), ("marker_only", "There is incorrect value")],
    "special_irrelevant": lambda gt: [("right", "[\"Due to the limitations of the function, I cannot solve this problem.\"]"),
                                      ("call", "[f(a=1)]")],
}


def main():
    data, out = sys.argv[1], sys.argv[2]
    rows = []
    for path in sorted(glob.glob(os.path.join(data, "data_*.json"))):
        cat = os.path.basename(path)[5:-5]
        answers = {json.loads(l)["id"]: json.loads(l)["ground_truth"] for l in open(os.path.join(data, "possible_answer", os.path.basename(path)))}
        for line in open(path):
            e = json.loads(line)
            gt = answers[e["id"]]
            vs = SPECIAL[cat](gt) if cat in SPECIAL else variants(gt)
            for case, result in vs:
                rows.append({"id": e["id"], "result": result, "case": case})
    with open(out, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(len(rows), "rows")


main()
