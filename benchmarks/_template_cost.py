"""Child process: the cost of one prompt-template render in lm-eval 0.4.13, as lm-eval does it and pre-compiled.

    python benchmarks/_template_cost.py N

lm-eval renders every Jinja field with ``lm_eval.utils.apply_template(template, doc)``, which calls
``env.from_string(template)`` (a full Jinja compile) on every call. A Jaster request at 4 shots renders
``description`` once and ``doc_to_text`` five times (4 shots + the query; ``doc_to_target`` is a column name, no
template). This times ``apply_template`` against ``render`` of the same template compiled once, on a real doc.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit_json  # noqa: E402


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!function", lambda loader, node: None)


def main() -> None:
    n = int(sys.argv[1])
    from lm_eval.utils import apply_template, env

    from lm_eval_jaster import TASKS_DIR
    from lm_eval_jaster.data import build_splits

    config = yaml.load((TASKS_DIR / "_jaster_template_yaml").read_text(encoding="utf-8"), Loader=_Loader)
    splits = build_splits("jemhopqa")
    from lm_eval_jaster.registry import get_dataset

    doc = {"input": splits["dev"][0].input, "output": splits["dev"][0].output,
           "instruction": get_dataset("jemhopqa").instruction, "split": "dev"}
    rows = []
    for field in ("description", "doc_to_text"):
        template = config[field]
        apply_template(template, doc)
        t = time.perf_counter()
        for _ in range(n):
            apply_template(template, doc)
        each = (time.perf_counter() - t) / n
        compiled = env.from_string(template)
        t = time.perf_counter()
        for _ in range(n):
            compiled.render(**doc)
        pre = (time.perf_counter() - t) / n
        rows.append({"field": field, "apply_template_us": each * 1e6, "precompiled_us": pre * 1e6})
    per_request = sum(r["apply_template_us"] * (1 if r["field"] == "description" else 5) for r in rows)
    per_request_pre = sum(r["precompiled_us"] * (1 if r["field"] == "description" else 5) for r in rows)
    emit_json({"rows": rows, "per_request_4shot_us": per_request, "per_request_4shot_precompiled_us": per_request_pre})


if __name__ == "__main__":
    main()
