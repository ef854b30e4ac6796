"""``lm-eval-jaster export``: llm-jp-eval's evaluation files (``<dir>/<split>/<dataset>.json``), byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from lm_eval_jaster.datasets.base import DatasetInfo, Sample, render_llm_jp_eval_json, sha256_text
from lm_eval_jaster.files import atomic_write_text


def write_llm_jp_eval_json(info: DatasetInfo, samples: Iterable[Sample], path: Path) -> str:
    """Write the file atomically (safe with several processes exporting into one folder); return its sha256."""
    text = render_llm_jp_eval_json(info, samples)
    atomic_write_text(path, text)
    return sha256_text(text)
