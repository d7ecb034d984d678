"""Expected summary tables from gorilla's own aggregation (run once by hand).

    python3 summary_oracle.py BFCL_EVAL_PARENT DATA_DIR sample.verdicts.jsonl summary.expected.json

Per-category accuracy and counts come from the oracle verdicts (so from
gorilla's checker); eval_runner_helper.generate_leaderboard_csv turns them
into data_non_live.csv, data_live.csv and data_overall.csv, whose cells are
written out {model: {csv: {column: cell}}}. Model "all" has every category;
"no_java" lacks java and live_relevance (shown N/A, counted 0).
"""
import csv, json, os, shutil, sys, tempfile, types
from collections import defaultdict


def main():
    upstream, data, verdicts, out = sys.argv[1:5]
    sys.path.insert(0, upstream)
    for name in ["numpy", "pandas", "overrides", "tenacity", "tree_sitter", "tree_sitter_java", "tree_sitter_javascript",
                 "openai", "requests", "tqdm", "dotenv"]:
        sys.modules[name] = types.ModuleType(name)

    class Cfg:
        display_name, url, org, license = "m", "u", "o", "l"
        input_price = output_price = None
        underscore_to_dot = False

    class Mapping(dict):
        def __getitem__(self, k):
            return Cfg()

    mc = types.ModuleType("bfcl_eval.constants.model_config")
    mc.MODEL_CONFIG_MAPPING = Mapping()
    sys.modules["bfcl_eval.constants.model_config"] = mc
    prompt_dir = tempfile.mkdtemp()
    for f in os.listdir(data):
        if f.endswith(".json"):
            shutil.copy(os.path.join(data, f), prompt_dir)
    for cat in ["multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context"]:
        open(os.path.join(prompt_dir, f"BFCL_v3_{cat}.json"), "w").close()
    from pathlib import Path
    import bfcl_eval.eval_checker.eval_runner_helper as h
    h.PROMPT_PATH = Path(prompt_dir)

    counts = defaultdict(lambda: [0, 0])
    for line in open(verdicts):
        v = json.loads(line)
        cat = v["id"].rsplit("_", 1)[0]
        counts[cat][1] += 1
        counts[cat][0] += bool(v["valid"])
    table = {}
    for model, drop in [("all", set()), ("no_java", {"java", "live_relevance"})]:
        table[model] = {c: {"accuracy": k / n, "total_count": n} for c, (k, n) in counts.items() if c not in drop}
    result = {}
    for model in table:
        d = tempfile.mkdtemp()
        h.generate_leaderboard_csv({model: table[model]}, Path(d))
        result[model] = {}
        for name in ["data_non_live.csv", "data_live.csv", "data_overall.csv"]:
            rows = list(csv.reader(open(os.path.join(d, name))))
            result[model][name] = dict(zip(rows[0], rows[1]))
    json.dump(result, open(out, "w"), indent=1)


main()
