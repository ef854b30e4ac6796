"""llm-jp-eval's Japanese benchmark collection (Jaster) as lm-evaluation-harness tasks.

``TASKS_DIR`` is the task folder to pass to lm-eval (``--include_path`` or ``TaskManager(include_path=...)``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__version__ = "0.2.0"


def _tasks_dir() -> Path:
    spec = importlib.util.find_spec("lm_eval_jaster.tasks")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "tasks"  # source checkout without installation


TASKS_DIR: Path = _tasks_dir()

__all__ = ["TASKS_DIR", "__version__"]
