"""Builds the model responses the BFCL checker tests score (run once by hand).

    python3 make_responses.py DATA_DIR OUT.jsonl

For every entry of every BFCL_v3_*.json in DATA_DIR it writes rows
{id, result, case}: a right answer built from the possible answer, then
variants that each break one rule (wrong values, type variants, missing and
extra parameters and calls, order, free text, malformed output). The expected
verdicts come from gorilla's own checker (oracle.py), not from this script, so
a variant that happens to pass is still a useful case.
"""

import glob
import json
import os
import sys


def tool_call(name, args):
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": args}) + "\n</tool_call>"


def render(calls):
    return "\n".join(tool_call(n, a) for n, a in calls)


def first_value(allowed):
    for v in allowed:
        if v != "":
            return True, v
    return False, None


def java_str(v, typ, doc):
    if typ == "long":
        return f"{v}L"
    if typ == "float":
        return f"{v}f"
    if isinstance(v, bool):
        return "true" if v else "false"
    if typ == "Array":
        inner = doc.get("items", {}).get("type", "")
        return "new " + ("int" if inner == "integer" else "String") + "[]{" + ", ".join(java_elem(x) for x in v) + "}"
    if typ == "ArrayList":
        return "new ArrayList<>(Arrays.asList(" + ", ".join(java_elem(x) for x in v) + "))"
    if typ == "HashMap" or isinstance(v, dict):
        puts = " ".join(f'put("{k}", {java_elem(first_value(a)[1])});' for k, a in v.items())
        return "new HashMap<String, Object>() {{ " + puts + " }}"
    return str(v)


def java_elem(x):
    if isinstance(x, str):
        return f'"{x}"'
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)


def js_str(v, typ):
    if isinstance(v, bool):
        return "true" if v else "false"
    if typ == "Bigint":
        return f"{v}n"
    if isinstance(v, list):
        return "[" + ", ".join(f"'{x}'" if isinstance(x, str) else js_str(x, "") for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"'{k}': " + (f"'{first_value(a)[1]}'" if isinstance(first_value(a)[1], str) else js_str(first_value(a)[1], "")) for k, a in v.items()) + "}"
    return str(v)


def canonical(entry, gt, lang, pick=first_value):
    docs = {f["name"]: f for f in entry["function"]}
    calls = []
    for call in gt:
        (name, params), = call.items()
        props = docs.get(name, {"parameters": {"properties": {}}})["parameters"]["properties"]
        args = {}
        for p, allowed in params.items():
            ok, v = pick(allowed)
            if not ok:
                continue
            typ = props.get(p, {}).get("type", "")
            if lang == "java" and not isinstance(v, str) or lang == "java" and typ in ("long", "float"):
                v = java_str(v, typ, props.get(p, {}))
            elif lang == "javascript" and not isinstance(v, str) or lang == "javascript" and typ == "Bigint":
                v = js_str(v, typ)
            args[p] = v
        calls.append((name, args))
    return calls


def last_value(allowed):
    for v in reversed(allowed):
        if v != "":
            return True, v
    return False, None


def mutate_first(calls, entry, fn):
    """Applies fn(param, value, doc) to the first parameter it changes."""
    docs = {f["name"]: f for f in entry["function"]}
    out = [(n, dict(a)) for n, a in calls]
    for n, a in out:
        props = docs.get(n, {"parameters": {"properties": {}}})["parameters"]["properties"]
        for p, v in a.items():
            r = fn(p, v, props.get(p, {}))
            if r is not None:
                a[p] = r
                return out
    return None


def variants(entry, gt, lang):
    base = canonical(entry, gt, lang)
    yield "right", render(base)
    alt = canonical(entry, gt, lang, last_value)
    if alt != base:
        yield "right_alternative", render(alt)
    yield "right_with_think", "<think>\nLet me call the tools.\n</think>\n\n" + render(base)
    yield "right_then_text", render(base) + "\nDone."

    def case_change(p, v, d):
        if isinstance(v, str) and any(c.isalpha() for c in v):
            return v.upper() + " ."
    def wrong_string(p, v, d):
        if isinstance(v, str):
            return v + " zzz"
    def wrong_number(p, v, d):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return v + 1
    def int_for_float(p, v, d):
        if isinstance(v, float) and v == int(v):
            return int(v)
        if isinstance(v, float):
            return int(v) + 1
    def float_for_int(p, v, d):
        if isinstance(v, int) and not isinstance(v, bool):
            return float(v)
    def number_as_string(p, v, d):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)
    def bool_as_string(p, v, d):
        if isinstance(v, bool):
            return "true" if v else "false"
    def bool_as_int(p, v, d):
        if isinstance(v, bool):
            return int(v)
    def null_value(p, v, d):
        return None
    def list_inner_type(p, v, d):
        if isinstance(v, list) and v:
            return [str(x) if not isinstance(x, str) else 1 for x in v]
    def list_reordered(p, v, d):
        if isinstance(v, list) and len(v) > 1:
            return list(reversed(v))
    def list_for_scalar(p, v, d):
        if not isinstance(v, (list, dict)):
            return [v]
    def dict_extra_key(p, v, d):
        if isinstance(v, dict):
            return {**v, "zz_extra": 1}
    def dict_missing_key(p, v, d):
        if isinstance(v, dict) and v:
            return dict(list(v.items())[1:])
    def dict_wrong_value(p, v, d):
        if isinstance(v, dict) and v:
            k = next(iter(v))
            return {**v, k: "wrong"}
    for name, fn in [("case_and_punctuation", case_change), ("wrong_string", wrong_string),
                     ("wrong_number", wrong_number), ("int_for_float", int_for_float),
                     ("float_for_int", float_for_int), ("number_as_string", number_as_string),
                     ("bool_as_string", bool_as_string), ("bool_as_int", bool_as_int),
                     ("null_value", null_value), ("list_inner_type", list_inner_type),
                     ("list_reordered", list_reordered), ("list_for_scalar", list_for_scalar),
                     ("dict_extra_key", dict_extra_key), ("dict_missing_key", dict_missing_key),
                     ("dict_wrong_value", dict_wrong_value)]:
        m = mutate_first(base, entry, fn)
        if m is not None:
            yield name, render(m)

    docs = {f["name"]: f for f in entry["function"]}
    # Missing required / optional parameters, extra parameter.
    n0, a0 = base[0]
    req = docs.get(n0, {"parameters": {}})["parameters"].get("required", [])
    for p in a0:
        if p in req:
            yield "missing_required", render([(n0, {k: v for k, v in a0.items() if k != p})] + base[1:])
            break
    for p in a0:
        if p not in req:
            yield "missing_optional", render([(n0, {k: v for k, v in a0.items() if k != p})] + base[1:])
            break
    yield "extra_param", render([(n0, {**a0, "zz_unexpected": 1})] + base[1:])
    yield "wrong_func_name", render([(n0 + "_x", a0)] + base[1:])
    yield "extra_call", render(base + [base[0]])
    if len(base) > 1:
        yield "missing_call", render(base[:-1])
        yield "reversed_order", render(list(reversed(base)))
    yield "no_call", ""
    yield from malformed(base)


def malformed(base):
    n0, a0 = base[0] if base else ("f", {})
    yield "free_text", "I cannot help with that request."
    yield "broken_json", '<tool_call>\n{"name": "' + n0 + '", "arguments": {\n</tool_call>'
    yield "one_broken_block", render(base) + '\n<tool_call>\nnot json\n</tool_call>'
    yield "no_newlines", '<tool_call>' + json.dumps({"name": n0, "arguments": a0}) + '</tool_call>'
    yield "arguments_as_string", "<tool_call>\n" + json.dumps({"name": n0, "arguments": json.dumps(a0)}) + "\n</tool_call>"
    yield "missing_name", "<tool_call>\n" + json.dumps({"arguments": a0}) + "\n</tool_call>"
    yield "missing_arguments", "<tool_call>\n" + json.dumps({"name": n0}) + "\n</tool_call>"
    yield "json_array_body", "<tool_call>\n[1, 2]\n</tool_call>"
    yield "name_is_list", "<tool_call>\n" + json.dumps({"name": [n0], "arguments": a0}) + "\n</tool_call>"
    yield "name_is_number", "<tool_call>\n" + json.dumps({"name": 5, "arguments": a0}) + "\n</tool_call>"
    yield "empty_arguments", "<tool_call>\n" + json.dumps({"name": n0, "arguments": {}}) + "\n</tool_call>"
    yield "unclosed_block", '<tool_call>\n' + json.dumps({"name": n0, "arguments": a0})


def main():
    data, out = sys.argv[1], sys.argv[2]
    rows = []
    for path in sorted(glob.glob(os.path.join(data, "BFCL_v3_*.json"))):
        cat = os.path.basename(path)[len("BFCL_v3_"):-len(".json")]
        lang = cat if cat in ("java", "javascript") else "python"
        answers = {}
        pa = os.path.join(data, "possible_answer", os.path.basename(path))
        if os.path.exists(pa):
            for line in open(pa):
                a = json.loads(line)
                answers[a["id"]] = a["ground_truth"]
        for line in open(path):
            entry = json.loads(line)
            if entry["id"] in answers:
                vs = variants(entry, answers[entry["id"]], lang)
            else:
                f0 = entry["function"][0] if entry["function"] else {"name": "f"}
                base = [(f0["name"], {p: "x" for p in f0.get("parameters", {}).get("required", [])})]
                vs = [("call", render(base)), ("no_call", "")] + list(malformed(base))
            for case, result in vs:
                rows.append({"id": entry["id"], "result": result, "case": case})
    with open(out, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(len(rows), "rows")


if __name__ == "__main__":
    main()
