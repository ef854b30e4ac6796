"""The Jaster groups: one per llm-jp-eval category, ``jaster_extra`` and the licence-aware ``jaster_all*`` groups.

The group YAMLs in tasks/ are generated from :func:`group_members` (utils/generate_tasks.py); the preflight check
expands requested groups with the same function.
"""

from __future__ import annotations

import functools

from lm_eval_jaster.datasets.base import DatasetInfo
from lm_eval_jaster.registry import CATEGORIES, all_datasets

NOTES = {
    "jaster_extra": "Datasets llm-jp-eval v1.4.1 did not run (later versions did): reported, never averaged.",
    "jaster_all": "Every Jaster dataset with a commercial-use licence and no code execution (llm-jp-eval's "
                  "all-without-nc, minus CG).",
    "jaster_all_with_nc": "jaster_all plus the non-commercial datasets (llm-jp-eval's all-with-nc, minus CG).",
    "jaster_all_with_code": "jaster_all plus the code-generation tasks, which run model-written code: "
                            "--confirm_run_unsafe_code.",
}


def averaged_members(category: str) -> list[DatasetInfo]:
    """The datasets of a category that its group (and llm-jp-eval's category mean) holds."""
    cat = CATEGORIES[category]
    return [i for i in all_datasets().values() if i.category == category and (i.in_avg or not cat.in_avg)]


@functools.lru_cache(maxsize=1)
def group_members() -> dict[str, list[str]]:
    """Group name → its members (task or group names), in YAML order."""
    groups: dict[str, list[str]] = {}
    in_all, nc_members, code_members, extras, code_extras = [], [], [], [], []
    for category in CATEGORIES.values():
        members = [i for i in all_datasets().values() if i.category == category.name]
        averaged = averaged_members(category.name)
        for i in members:
            if i not in averaged:
                (code_extras if i.unsafe_code else extras if not i.non_commercial else nc_members).append(i.task_name)
        if not averaged:
            continue
        groups[category.group_name] = [i.task_name for i in averaged]
        if any(i.unsafe_code for i in averaged):
            code_members.append(category.group_name)
        elif all(i.non_commercial for i in averaged):
            nc_members.append(category.group_name)
        elif any(i.non_commercial for i in averaged):
            raise RuntimeError(f"category {category.name} mixes commercial and non-commercial datasets: split it")
        else:
            in_all.append(category.group_name)
    if extras:
        groups["jaster_extra"] = extras
    groups["jaster_all"] = in_all + (["jaster_extra"] if extras else [])
    groups["jaster_all_with_nc"] = ["jaster_all", *nc_members]
    groups["jaster_all_with_code"] = ["jaster_all", *code_members, *code_extras]
    return groups


def leaf_tasks(name: str) -> list[str]:
    """The Jaster task names a task or group name stands for ([] for a name that is not Jaster's)."""
    groups = group_members()
    if name in groups:
        return [task for member in groups[name] for task in leaf_tasks(member)]
    return [name] if name in {i.task_name for i in all_datasets().values()} else []

