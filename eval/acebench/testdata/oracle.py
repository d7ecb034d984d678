"""Expected messages and verdicts from ACEBench's own code (run once by hand).

    python3 oracle.py ACEBENCH_CHECKOUT DATA_DIR RESPONSES.jsonl OUT_PREFIX

Imports ACEBench's modules unchanged (packages not installed here and not
reached by these code paths are replaced by empty stand-ins) and writes
OUT_PREFIX.messages.jsonl ({id, category, messages}: what
CommonInference.single_turn_inference passes a local model, language "en")
and OUT_PREFIX.verdicts.jsonl ({id, case, valid, error_type, error} from
eval_main's normal_single_turn_eval / normal_multi_turn_eval / special_eval
on one row at a time; {exception} when the checker itself raises).
"""
import glob, json, os, sys, tempfile, types


class _Any:
    def __init__(self, *a, **k): pass
    def __getattr__(self, n): return _Any()
    def __call__(self, *a, **k): return _Any()


def stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    m.__getattr__ = lambda n: _Any()
    sys.modules[name] = m


def main():
    repo, data, responses, out = sys.argv[1:5]
    sys.path.insert(0, repo)
    for name in ["pandas", "openpyxl", "openpyxl.styles", "openai", "google", "google.generativeai", "vllm", "tqdm",
                 "transformers", "model_inference.multi_turn.common_agent", "model_inference.multi_turn.APIModel_user",
                 "model_inference.multi_turn.execution_role", "model_inference.multi_turn.multi_turn_scene",
                 "model_inference.multi_step.multi_step_scene", "model_inference.multi_step.common_agent_step",
                 "model_inference.multi_step.execution_role_step"]:
        stub(name)
    os.chdir(repo)
    import eval_main
    from model_inference.common_inference import CommonInference
    eval_main.convert_result_to_excel = lambda *a, **k: None
    score_dir = tempfile.mkdtemp()
    eval_main.OUTPUT_PATH = score_dir

    class Capture:
        def inference(self, system_prompt, user_prompt):
            self.messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_prompt}]
            return ""

    inf = CommonInference.__new__(CommonInference)
    inf.language = "en"
    inf.model = Capture()

    entries, answers = {}, {}
    with open(out + ".messages.jsonl", "w") as mf:
        for path in sorted(glob.glob(os.path.join(data, "data_*.json"))):
            cat = os.path.basename(path)[5:-5]
            for line in open(path):
                e = json.loads(line)
                entries[e["id"]] = (cat, e)
                functions = e["function"]
                if isinstance(functions, (dict, str)):
                    functions = [functions]
                time = "" if "preference" in e["id"] else e["time"]
                profile = e.get("profile", "") if "preference" in e["id"] else ""
                inf.single_turn_inference(e["question"], functions, time, profile, e["id"])
                mf.write(json.dumps({"id": e["id"], "category": cat, "messages": inf.model.messages}, ensure_ascii=False) + "\n")
            for line in open(os.path.join(data, "possible_answer", os.path.basename(path))):
                a = json.loads(line)
                answers[a["id"]] = a

    with open(out + ".verdicts.jsonl", "w") as vf:
        for line in open(responses):
            row = json.loads(line)
            cat, e = entries[row["id"]]
            verdict = {"id": row["id"], "case": row.get("case")}
            try:
                args = ([row], [e], [answers[row["id"]]], cat, "m")
                if "special" in cat:
                    eval_main.special_eval(*args, None)
                elif "normal_multi_turn" in cat:
                    eval_main.normal_multi_turn_eval(*args, None)
                else:
                    eval_main.normal_single_turn_eval(*args, None)
                lines = open(os.path.join(score_dir, "m", f"data_{cat}_score.json"), encoding="utf-8").read().splitlines()
                head = json.loads(lines[0])
                valid = head["correct_count"] == 1
                if "normal_multi_turn" in cat:
                    valid = head["accuracy"] == 1
                verdict["valid"] = valid
                if not valid:
                    r = json.loads(lines[1])
                    verdict.update(error_type=r["error_type"], error=r["error"])
                else:
                    verdict.update(error_type="", error=[])
            except Exception as ex:
                verdict.update(valid=False, exception=f"{type(ex).__name__}: {ex}")
            vf.write(json.dumps(verdict, ensure_ascii=False) + "\n")


main()
