"""All Jaster datasets and categories. Datasets are discovered from the modules of lm_eval_jaster.datasets."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass

from lm_eval_jaster import datasets as _datasets_pkg
from lm_eval_jaster.datasets.base import DatasetInfo


@dataclass(frozen=True)
class Category:
    name: str
    title: str
    in_avg: bool  # counted in llm-jp-eval's AVG

    @property
    def group_name(self) -> str:
        return f"jaster_{self.name.lower()}"


# llm-jp-eval's categories in its own order. v1.3.0 averages NLI QA RC MC HE EL FA MR MT (read in its
# utils.py::post_process_score_results); v1.4.1 adds CG and SUM (recollection, matching the Open Japanese LLM
# Leaderboard). STS is reported but never averaged; CL (JCoLA) was not in v1.4.1's run and is not averaged either.
CATEGORIES: dict[str, Category] = {c.name: c for c in [
    Category("NLI", "Natural Language Inference", True),
    Category("QA", "Question Answering", True),
    Category("RC", "Reading Comprehension", True),
    Category("MC", "Multiple-Choice question answering", True),
    Category("EL", "Entity Linking", True),
    Category("FA", "Fundamental Analysis", True),
    Category("MR", "Mathematical Reasoning", True),
    Category("MT", "Machine Translation", True),
    Category("HE", "Human Examination", True),
    Category("CG", "Code Generation", True),
    Category("SUM", "Summarization", True),
    Category("STS", "Semantic Textual Similarity (not in AVG)", False),
    Category("CL", "Acceptability (CoLA; not in AVG)", False),
]}


@functools.lru_cache(maxsize=1)
def all_datasets() -> dict[str, DatasetInfo]:
    """name → DatasetInfo for every module in lm_eval_jaster.datasets that defines DATASETS."""
    found: dict[str, DatasetInfo] = {}
    for module_info in pkgutil.iter_modules(_datasets_pkg.__path__):
        module = importlib.import_module(f"{_datasets_pkg.__name__}.{module_info.name}")
        for info in getattr(module, "DATASETS", []):
            if info.name in found:
                raise RuntimeError(f"dataset {info.name!r} defined twice")
            if info.category not in CATEGORIES:
                raise RuntimeError(f"dataset {info.name!r}: unknown category {info.category!r}")
            found[info.name] = info
    return dict(sorted(found.items(), key=lambda kv: (list(CATEGORIES).index(kv[1].category), kv[0])))


def get_dataset(name: str) -> DatasetInfo:
    datasets = all_datasets()
    if name not in datasets:
        raise KeyError(f"unknown Jaster dataset {name!r}; known: {', '.join(datasets)}")
    return datasets[name]


def dataset_for_task(task_name: str) -> DatasetInfo | None:
    return {info.task_name: info for info in all_datasets().values()}.get(task_name)
