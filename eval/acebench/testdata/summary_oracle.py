"""Expected ACEBench summary row from its own evaluation (run once by hand).

    python3 summary_oracle.py ACEBENCH_CHECKOUT DATA_DIR RESPONSES.jsonl summary.expected.json

For each category, one response per item is taken from RESPONSES (row
(11*i + 3) mod k of the item's k rows, for the category's i-th item), the
category is scored by eval_main (normal_single_turn_eval, normal_multi_turn_eval,
special_eval) as a whole, and evaluation_helper's update_result_table_with_score_file
and generate_result_csv build the summary row; the Workbook is replaced by a
recorder. Writes {"selected": [[id, case], ...], "columns": {name: value}}.
Categories in SKIP are left out, to show their 0.
"""
import glob, json, os, sys, tempfile, types
from collections import defaultdict

SKIP = {"normal_atom_enum", "special_error_param"}


class _Any:
    def __init__(self, *a, **k): pass
    def __getattr__(self, n): return _Any()
    def __call__(self, *a, **k): return _Any()


def main():
    repo, data, responses, out = sys.argv[1:5]
    data, responses, out = map(os.path.abspath, (data, responses, out))
    sys.path.insert(0, repo)
    for name in ["pandas", "openpyxl", "openpyxl.styles", "openai", "google", "google.generativeai", "vllm", "tqdm", "transformers"]:
        m = types.ModuleType(name)
        m.__getattr__ = lambda n: _Any
        sys.modules[name] = m
    os.chdir(repo)
    import eval_main
    import model_eval.evaluation_helper as helper
    eval_main.convert_result_to_excel = lambda *a, **k: None
    rows_out = []

    class Sheet:
        def cell(self, row, column, value):
            while len(rows_out) < row:
                rows_out.append([])
            rows_out[row - 1].append(value)
            return _Any()

    class Book:
        active = Sheet()
        def save(self, path): pass

    helper.Workbook = Book
    score_dir = tempfile.mkdtemp() + "/"
    eval_main.OUTPUT_PATH = score_dir

    by_id = defaultdict(list)
    for line in open(responses, encoding="utf-8"):
        r = json.loads(line)
        by_id[r["id"]].append(r)
    selected = []
    for path in sorted(glob.glob(os.path.join(data, "data_*.json"))):
        cat = os.path.basename(path)[5:-5]
        if cat in SKIP:
            continue
        prompt = [json.loads(l) for l in open(path, encoding="utf-8")]
        answers = [json.loads(l) for l in open(os.path.join(data, "possible_answer", os.path.basename(path)), encoding="utf-8")]
        results = []
        for i, e in enumerate(prompt):
            rs = by_id[e["id"]]
            r = rs[(11 * i + 3) % len(rs)]
            selected.append([r["id"], r["case"]])
            results.append({"id": r["id"], "result": r["result"]})
        args = (results, prompt, answers, cat, "m")
        if "special" in cat:
            eval_main.special_eval(*args, None)
        elif "normal_multi_turn" in cat:
            eval_main.normal_multi_turn_eval(*args, None)
        else:
            eval_main.normal_single_turn_eval(*args, None)
    table = {}
    helper.update_result_table_with_score_file(table, score_dir)
    helper.generate_result_csv(table, score_dir)
    columns = dict(zip(rows_out[0], rows_out[1]))
    json.dump({"selected": selected, "columns": columns}, open(out, "w"), indent=1)


main()
