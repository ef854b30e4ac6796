"""Child process: the generation budget of jaster_all (its leaf tasks), per task, for the dev and the test split.

    python benchmarks/_budget.py CHECK_DOCS

Samples come from the built splits ($JASTER_CACHE_DIR), ``max_gen_toks`` from lm-eval's own task config
(``TaskManager(include_path=TASKS_DIR, include_defaults=False)``). Prompt characters are computed for every dev and
test sample at 0 and 4 shots with llm-jp-eval's formula (tests/reference.py ``llm_jp_eval_prompt``; tests/
test_prompts.py proves it identical to ``task.fewshot_context`` for every prompt). As a guard, the first CHECK_DOCS
docs of each split of each task are also rendered by lm-eval's ``task.fewshot_context`` and compared here.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import TESTS_DIR, emit_json  # noqa: E402

# lm-eval 0.4.13's default when a task sets no max_gen_toks (HFLM/vLLM/API models' ``max_gen_toks: int = 256``,
# ``lm_eval.models.utils.normalize_gen_kwargs(default_max_gen_toks=256)``).
LM_EVAL_DEFAULT_MAX_GEN_TOKS = 256


def main() -> None:
    check_docs = int(sys.argv[1])
    sys.path.insert(0, str(TESTS_DIR))
    try:
        from reference import llm_jp_eval_prompt
    except ImportError:  # tests/reference.py moved: the same formula, restated
        header = "以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。要求を適切に満たす応答を書きなさい。"

        def llm_jp_eval_prompt(instruction, shots, query):
            template = f"{header}\n\n### 指示:\n{instruction}"
            for shot_input, shot_output in shots:
                template += f"\n\n### 入力:\n{shot_input}\n\n### 応答:\n{shot_output}"
            return (template + "\n\n### 入力:\n{input}\n\n### 応答:\n").format(input=query)

    from lm_eval.tasks import TaskManager

    from lm_eval_jaster import TASKS_DIR
    from lm_eval_jaster.data import build_splits
    from lm_eval_jaster.registry import all_datasets

    t = time.perf_counter()
    infos = all_datasets()
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    tasks = manager.load(["jaster_all"])["tasks"]  # its leaf tasks, as lm-eval resolves the group
    load_s = time.perf_counter() - t

    rows, checked, mismatches = [], 0, []
    for name, info in infos.items():
        if info.task_name not in tasks:
            continue  # a dataset outside jaster_all (e.g. non-commercial ones, in jaster_all_with_nc)
        task = tasks[info.task_name]
        max_gen_toks = int(task.config.generation_kwargs["max_gen_toks"])
        splits = build_splits(info)
        shots4 = [(s.input, s.output) for s in splits["train"][:4]]
        row = {"task": info.task_name, "source": info.source, "max_gen_toks": max_gen_toks,
               "output_length": info.output_length}
        for split in ("dev", "test"):
            samples = splits[split]
            row[f"{split}_samples"] = len(samples)
            for shots_n in (0, 4):
                row[f"{split}_chars_{shots_n}"] = sum(
                    len(llm_jp_eval_prompt(info.instruction, shots4[:shots_n], s.input)) for s in samples)
            docs = task.dataset[split]
            for i in range(min(check_docs, len(docs))):
                for shots_n in (0, 4):
                    checked += 1
                    if task.fewshot_context(docs[i], num_fewshot=shots_n) != llm_jp_eval_prompt(
                            info.instruction, shots4[:shots_n], samples[i].input):
                        mismatches.append(f"{info.task_name}/{split}/{i}/{shots_n}-shot")
        rows.append(row)
    emit_json({"rows": rows, "checked_prompts": checked, "mismatches": mismatches, "task_load_s": load_s,
               "default_max_gen_toks": LM_EVAL_DEFAULT_MAX_GEN_TOKS})


if __name__ == "__main__":
    main()
