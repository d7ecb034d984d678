"""Random inputs for gorilla's Java/JavaScript type converters and its
js dict-pair regex, with their outputs (run once by hand).

    python3 converter_oracle.py BFCL_EVAL_PARENT converters.jsonl
"""
import json, random, re, sys

TOKENS = ["new", " ", "  ", "int", "String", "[]", "{", "}", "{{", "}}", "1", "23", "2.5", "-3", "0", "1e3", "3.0f", "7L",
          "12n", '"a"', "'b'", '"x y"', ",", ", ", ":", ": ", "ArrayList<>", "ArrayList<String>", "(", ")", "Arrays.asList",
          "HashMap<String, Object>", "HashMap<>", "put(", "add(", ";", "true", "false", "L", "f", "n", "\n", "[", "]",
          "new Array", "e5", "_", "key", "'k'", '"k"', "\t", ".", "+", "nan", "inf"]
JAVA_TYPES = ["byte", "short", "integer", "float", "double", "long", "boolean", "char", "Array", "ArrayList",
              "HashMap", "String", "any"]
JS_TYPES = ["String", "integer", "float", "Bigint", "Boolean", "dict", "array", "any"]
NESTED = [None, "integer", "String", "float", "boolean", "long", "char", "Boolean"]


ELEMS = ["1", "-2", "3.5", "2.5f", "7L", "true", "false", '"s"', "'t'", "x", "1e3", " 4 ", "", "12n", "null",
         '"a,b"', "1_0", "+3", "0.5e-2", "nan", "inf", "'k': 1", "[1]", "{a: 1}", "5\n"]
SEP = [",", ", ", " , ", ",  "]


def elems(rnd):
    return rnd.choice(SEP).join(rnd.choice(ELEMS) for _ in range(rnd.randint(0, 4)))


def java_value(rnd, typ):
    if typ == "Array":
        return rnd.choice(["new int[]{", "new String[] {", "new long[]{ ", "new Object[]{", "int[]{"]) + elems(rnd) + rnd.choice(["}", " }", ""])
    if typ == "ArrayList":
        r = rnd.random()
        if r < 0.4:
            return rnd.choice(["new ArrayList<>(Arrays.asList(", "new ArrayList<String>(Arrays.asList(", "new ArrayList<>(List.of("]) + elems(rnd) + rnd.choice(["))", ")"])
        if r < 0.8:
            adds = " ".join(f"add({rnd.choice(ELEMS)});" for _ in range(rnd.randint(0, 3)))
            return rnd.choice(["new ArrayList<String>() {{ ", "new ArrayList<>() {{", "new ArrayList<>(){{\n"]) + adds + rnd.choice([" }}", "}}", " }"])
        return rnd.choice(["new ArrayList<>()", "new ArrayList<Integer>()", "ArrayList()"])
    if typ == "HashMap":
        puts = " ".join(f'put("{rnd.choice(["k", "a b", "x"])}", {rnd.choice(ELEMS)});' for _ in range(rnd.randint(0, 3)))
        return rnd.choice(["new HashMap<String, Object>() {{ ", "new HashMap<>() {", "new HashMap<String, String>(){{", "new HashMap<>()"]) + puts + rnd.choice([" }}", "}", "", "}}"])
    return rnd.choice(ELEMS + ["123L", "3.14f", "-3.14", "1e10", "'a'", "a", "True", "127", "9223372036854775807L", "3F", "3e-3F", "00"])


def js_value(rnd, typ):
    if typ == "array":
        r = rnd.random()
        if r < 0.3:
            return "[" + ", ".join("[" + elems(rnd) + "]" for _ in range(rnd.randint(1, 3))) + "]"
        if r < 0.5:
            return "new Array(" + elems(rnd) + ")"
        return rnd.choice(["[", " [", "["]) + elems(rnd) + rnd.choice(["]", " ]", ""])
    if typ == "dict":
        pairs = rnd.choice(SEP).join(
            rnd.choice(["a", "'b'", '"c"', " d ", "e f"]) + rnd.choice([":", ": ", " : "]) + rnd.choice(ELEMS + ["[1, 2]", "{x: 1}", "'p, q'"])
            for _ in range(rnd.randint(0, 4)))
        return rnd.choice(["{", "{ "]) + pairs + rnd.choice(["}", " }", "", "}}"])
    return rnd.choice(ELEMS + ["'Bob'", '"Bob"', "Bob", "123n", "-5", "2.", ".5", "true ", "3.0"])


def pairs_value(rnd):
    parts = []
    for _ in range(rnd.randint(1, 4)):
        parts.append(rnd.choice(["a", "b c", " 'k'", ":", "", "x,y"]) + rnd.choice([":", ": ", ":  ", ""]) + rnd.choice(ELEMS + ["[1, 2]", "p, q", " :z", ", :", "\n1"]))
    return rnd.choice(SEP + [",", ", :"]).join(parts)


def main():
    sys.path.insert(0, sys.argv[1])
    from bfcl_eval.eval_checker.ast_eval.type_convertor.java_type_converter import java_type_converter
    from bfcl_eval.eval_checker.ast_eval.type_convertor.js_type_converter import js_type_converter
    import builtins
    builtins.print = lambda *a, **k: None  # parse_js_collection prints its errors
    rnd = random.Random(7)
    pair_re = r"([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)"
    with open(sys.argv[2], "w") as f:
        for i in range(3000):
            if i % 4 == 3:
                value = pairs_value(rnd) if i % 8 == 3 else "".join(rnd.choice(TOKENS) for _ in range(rnd.randint(1, 9)))
                f.write(json.dumps({"kind": "pairs", "value": value, "result": [list(p) for p in re.findall(pair_re, value)]}) + "\n")
                continue
            lang = "java" if i % 2 == 0 else "javascript"
            typ = rnd.choice(JAVA_TYPES if lang == "java" else JS_TYPES)
            nested = rnd.choice(NESTED) if typ in ("Array", "ArrayList", "array") else None
            value = java_value(rnd, typ) if lang == "java" else js_value(rnd, typ)
            row = {"kind": lang, "value": value, "type": typ, "nested": nested}
            try:
                conv = java_type_converter if lang == "java" else js_type_converter
                row["result"] = conv(value, typ, nested)
            except Exception as e:
                row["exception"] = type(e).__name__
            f.write(json.dumps(row) + "\n")


main()
