"""The generated task folder is in sync with the dataset registry and loads in lm-eval."""

from __future__ import annotations

import subprocess
import sys

from lm_eval_jaster import TASKS_DIR
from lm_eval_jaster.registry import CATEGORIES, all_datasets

from conftest import REPO


def test_generated_files_are_up_to_date():
    run = subprocess.run([sys.executable, str(REPO / "utils" / "generate_tasks.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_lm_eval_indexes_every_task_and_group():
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    names = set(manager.all_tasks)
    assert {info.task_name for info in all_datasets().values()} <= names
    used = {info.category for info in all_datasets().values()}
    assert {CATEGORIES[c].group_name for c in used} | {"jaster_all"} <= names
    # Shared templates must not be indexed as tasks (no .yaml suffix).
    assert not any(name.startswith("_jaster") for name in names)


def test_entry_point_names_the_task_package():
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="lm_eval.tasks") if e.name == "jaster"]
    assert entry.value == "lm_eval_jaster.tasks"


def test_every_task_has_both_pipelines_and_docs_carry_their_dataset(jaster_env):
    from lm_eval.tasks import TaskManager

    from lm_eval_jaster.filters import LenientAnswer, LenientAnswerFilter, LlmJpEvalFilter
    from lm_eval_jaster.metrics import normalize

    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    names = [info.task_name for info in all_datasets().values()]
    tasks = manager.load(names)["tasks"]
    for info in all_datasets().values():
        task = tasks[info.task_name]
        pipelines = {p["name"]: p["filter"] for p in task.config.filter_list}
        assert list(pipelines) == ["llm-jp-eval", "lenient"]
        assert pipelines["llm-jp-eval"][0]["function"] is LlmJpEvalFilter
        assert pipelines["lenient"][0]["function"] is LenientAnswerFilter
        doc = task.test_docs()[0]
        assert doc["jaster_dataset"] == info.name
        # The lenient filter reads the answer format and labels from the doc's dataset.
        raw = f"答え：{info.labels[0]}" if info.labels else "答え：x"
        (answer,) = LenientAnswerFilter().apply([[raw]], [doc])[0]
        assert isinstance(answer, LenientAnswer) and answer.strict == normalize(raw)
        if info.answer_format == "label":
            assert answer == info.labels[0]  # e.g. "yes"/"no" stay strings
