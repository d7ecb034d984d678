"""Expected prompts and verdicts from gorilla's own BFCL code (run once by hand).

    python3 oracle.py BFCL_EVAL_PARENT DATA_DIR RESPONSES.jsonl OUT_PREFIX

BFCL_EVAL_PARENT is the berkeley-function-call-leaderboard directory of a
gorilla checkout at cd9429ccf3d4d04156affe883c495b3b047e6b64. The modules
this needs are imported from there unchanged; packages that are not installed
here (openai, tree_sitter, tqdm, ...) and that the code paths used never
reach are replaced by empty stand-ins. Writes OUT_PREFIX.prompts.jsonl
({id, category, prompt}: QwenFCHandler._format_prompt after
_pre_query_processing_prompting) and OUT_PREFIX.verdicts.jsonl ({id, case,
valid, error_type, error} from eval_runner's ast_file_runner /
relevance_file_runner on one row at a time; {exception} when the checker
itself raises).
"""

import copy
import glob
import json
import os
import sys
import tempfile
import types


def stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


class _Any:
    def __init__(self, *a, **k):
        pass

    def __getattr__(self, name):
        return _Any()

    def __call__(self, *a, **k):
        return _Any()


def identity(f=None, *a, **k):
    return f if callable(f) else (lambda g: g)


def install_stubs():
    stub("overrides", override=identity, final=identity, EnforceOverrides=object)
    stub("tenacity", retry=identity, retry_if_exception_message=_Any(), retry_if_exception_type=_Any(),
         stop_after_attempt=_Any(), wait_random_exponential=_Any(), retry_if_exception=_Any())
    stub("tree_sitter", Language=_Any, Parser=_Any)
    stub("tree_sitter_java", language=_Any())
    stub("tree_sitter_javascript", language=_Any())
    stub("openai", OpenAI=_Any)
    stub("requests")
    stub("tqdm", tqdm=_Any)
    stub("dotenv", load_dotenv=identity)
    stub("numpy")
    stub("pandas")

    class Cfg:
        underscore_to_dot = False

    class Mapping(dict):
        def __getitem__(self, k):
            return Cfg()

        def __contains__(self, k):
            return True

    stub("bfcl_eval.constants.model_config", MODEL_CONFIG_MAPPING=Mapping())
    stub("bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker",
         multi_turn_checker=None, multi_turn_irrelevance_checker=None)


def main():
    upstream, data, responses, out = sys.argv[1:5]
    sys.path.insert(0, upstream)
    install_stubs()
    from bfcl_eval.model_handler.local_inference.qwen_fc import QwenFCHandler
    from bfcl_eval.eval_checker import eval_runner

    handler = QwenFCHandler.__new__(QwenFCHandler)  # no server, no tokenizer
    entries, answers = {}, {}
    with open(out + ".prompts.jsonl", "w") as pf:
        for path in sorted(glob.glob(os.path.join(data, "BFCL_v3_*.json"))):
            cat = os.path.basename(path)[len("BFCL_v3_"):-len(".json")]
            for line in open(path):
                e = json.loads(line)
                entries[e["id"]] = (cat, e)
                t = copy.deepcopy(e)
                inference_data = handler._pre_query_processing_prompting(t)
                prompt = handler._format_prompt(t["question"][0], inference_data["function"])
                pf.write(json.dumps({"id": e["id"], "category": cat, "prompt": prompt}) + "\n")
            pa = os.path.join(data, "possible_answer", os.path.basename(path))
            if os.path.exists(pa):
                for line in open(pa):
                    a = json.loads(line)
                    answers[a["id"]] = a

    score_dir = tempfile.mkdtemp()
    from pathlib import Path
    with open(out + ".verdicts.jsonl", "w") as vf:
        for line in open(responses):
            row = json.loads(line)
            cat, e = entries[row["id"]]
            lang = "Java" if "java" in cat and "javascript" not in cat else "JavaScript" if "javascript" in cat else "Python"
            verdict = {"id": row["id"], "case": row.get("case")}
            try:
                if "relevance" in cat:
                    eval_runner.relevance_file_runner(handler, [row], [copy.deepcopy(e)], "m", cat, Path(score_dir))
                else:
                    eval_runner.ast_file_runner(handler, [row], [copy.deepcopy(e)], [answers[row["id"]]],
                                                lang, cat, "Qwen_Qwen3-8B-FC", Path(score_dir))
                lines = open(os.path.join(score_dir, "Qwen_Qwen3-8B-FC" if "relevance" not in cat else "m",
                                          f"BFCL_v3_{cat}_score.json")).read().splitlines()
                if len(lines) == 1:
                    verdict.update(valid=True, error_type="", error=[])
                else:
                    r = json.loads(lines[1])
                    verdict.update(valid=r["valid"], error_type=r["error_type"], error=r["error"])
            except Exception as ex:  # the upstream run would stop here
                verdict.update(valid=False, exception=f"{type(ex).__name__}: {ex}")
            vf.write(json.dumps(verdict) + "\n")


if __name__ == "__main__":
    main()
