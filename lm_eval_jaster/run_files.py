"""The files of an lm-eval run: ``results_<date>.json`` and its ``--log_samples`` files
``samples_<task>_<date>.jsonl`` beside it (read by ``lm-eval-jaster scores`` and ``report``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def run_date(results_file: Path) -> str:
    """lm-eval's date suffix: ``results_2025-01-01T10-00-00.123456.json`` → ``2025-01-01T10-00-00.123456``."""
    return results_file.stem.rsplit("_", 1)[-1]


def samples_files(results_file: Path) -> dict[str, Path]:
    """Task name → its ``samples_<task>_<date>.jsonl`` beside a results file (same date)."""
    suffix = f"_{run_date(results_file)}.jsonl"
    return {path.name[len("samples_"):-len(suffix)]: path
            for path in sorted(results_file.parent.glob("samples_*.jsonl")) if path.name.endswith(suffix)}


def read_samples(path: Path) -> list[dict]:
    """The JSON lines of a samples file. A line that is not a JSON object (a killed run leaves a truncated last
    line) is skipped with a warning naming the file and line."""
    records = []
    with path.open(encoding="utf-8", errors="replace") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                warn(f"{path}: line {line_no}: not valid JSON ({e.msg}; a run killed while writing leaves a "
                     f"truncated line); line skipped")
                continue
            if not isinstance(record, dict) or not isinstance(record.get("doc_id"), int):
                warn(f"{path}: line {line_no}: not an lm-eval sample (a JSON object with an integer doc_id); "
                     f"line skipped")
                continue
            records.append(record)
    return records
