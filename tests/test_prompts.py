"""Every prompt lm-eval renders for a Jaster task equals llm-jp-eval's, at 0 and 4 shots, on the real data."""

from __future__ import annotations

import pytest

from lm_eval_jaster import TASKS_DIR
from lm_eval_jaster.data import build_splits
from lm_eval_jaster.registry import all_datasets
from reference import llm_jp_eval_prompt


@pytest.fixture(scope="module")
def task_managers(jaster_env):
    from lm_eval.tasks import TaskManager

    return {split: TaskManager(include_path=str(TASKS_DIR), include_defaults=False, metadata={"jaster_split": split})
            for split in ("dev", "test")}


def _task(task_managers, split: str, task_name: str):
    return task_managers[split].load([task_name])["tasks"][task_name]


@pytest.mark.parametrize("split", ["dev", "test"])
@pytest.mark.parametrize("name", list(all_datasets()))
def test_every_prompt_matches_llm_jp_eval(name, split, task_managers):
    info = all_datasets()[name]
    task = _task(task_managers, split, info.task_name)
    splits = build_splits(info)
    docs = list(task.eval_docs)
    assert [d["input"] for d in docs] == [s.input for s in splits[split]]
    shots = [(s.input, s.output) for s in splits["train"][:4]]
    for num_fewshot in (0, 4):
        mismatches = [i for i, doc in enumerate(docs)
                      if task.fewshot_context(doc, num_fewshot=num_fewshot)
                      != llm_jp_eval_prompt(info.instruction, shots[:num_fewshot], doc["input"])]
        assert not mismatches, f"{len(mismatches)} prompts differ at {num_fewshot} shots, first doc {mismatches[0]}"


def test_prompt_layout_by_hand(task_managers):
    """One prompt written out literally, so a bug shared by package and reference cannot hide."""
    task = _task(task_managers, "dev", "jaster_jemhopqa")
    doc = next(iter(task.eval_docs))
    expected = ("以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。要求を適切に満たす応答を書きなさい。\n\n"
                "### 指示:\n質問を入力とし、回答を出力してください。回答の他には何も含めないことを厳守してください。"
                "回答が'はい'と'いいえ'で答えることができる場合、'YES'と'NO'で答えてください。\n\n"
                f"### 入力:\n{doc['input']}\n\n### 応答:\n")
    assert task.fewshot_context(doc, num_fewshot=0) == expected
    assert task.config.generation_kwargs == {"until": ["\n\n"], "max_gen_toks": 15, "do_sample": False,
                                             "temperature": 0.0}
