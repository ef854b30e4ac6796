"""llm-jp-eval's evaluation-file format (``evaluation/<split>/<dataset>.json``), byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

from lm_eval_jaster.datasets.base import DatasetInfo, Sample


def render_llm_jp_eval_json(info: DatasetInfo, samples: Iterable[Sample]) -> str:
    """The text llm-jp-eval writes with ``json.dump(asdict(OutputInfo), f, ensure_ascii=False, indent=4)``."""
    payload = {
        "instruction": info.instruction,
        "output_length": info.output_length,
        "metrics": list(info.metrics),
        "few_shots": [],
        "samples": [{"input": s.input, "output": s.output} for s in samples],
    }
    return json.dumps(payload, ensure_ascii=False, indent=4)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_llm_jp_eval_json(info: DatasetInfo, samples: Iterable[Sample], path: Path) -> str:
    """Write the file atomically; return its sha256."""
    text = render_llm_jp_eval_json(info, samples)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(text.encode("utf-8"))
    tmp.replace(path)
    return sha256_text(text)
