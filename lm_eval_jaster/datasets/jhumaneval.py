"""JHumanEval: HumanEval with Japanese docstrings (KuramitsuLab/jhuman-eval), dataset jhumaneval. MIT. Category CG.

Upstream: github.com/KuramitsuLab/jhuman-eval, branch main: data/jhuman-eval.jsonl.gz (164 HumanEval records).
Rules: not run by llm-jp-eval v1.4.1 (v2 only; not in AVG, no published hash). Input: the Japanese prompt, then
"### テストケース:" and the test program (HumanEval's test without METADATA, then check(entry_point)); output
str([program]); file order, the first 32 → train, the rest halved into dev and test.
Deviations: llm-jp-eval's processor was not read: the layout is designed to match MBPP-ja's and the split recalls
the v2 processor (unverified). Runs model-written code: needs --confirm_run_unsafe_code.
Details: docs/datasets.md#jhumaneval
"""

from __future__ import annotations

import re
from pathlib import Path

from lm_eval_jaster.datasets.base import (DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, json_lines,
                                          read_gzip)
from lm_eval_jaster.datasets.code_tasks import INSTRUCTION

FILE = "data/jhuman-eval.jsonl.gz"
TRAIN_SIZE = 32
_METADATA = re.compile(r"^METADATA = \{[^{}]*\}\n", re.M)


def check_program(test: str, entry_point: str) -> str:
    """HumanEval's test code without its unused ``METADATA`` dict, then the call of ``check`` on the entry point."""
    return f"{_METADATA.sub('', test).strip()}\n\ncheck({entry_point})\n"


def _sample(record: dict) -> Sample:
    prompt, test, entry_point = record["prompt"], record["test"], record["entry_point"]
    if not all(isinstance(v, str) for v in (prompt, test, entry_point)) or not entry_point.isidentifier():
        raise TypeError("prompt, test and entry_point must be strings, entry_point an identifier")
    program = check_program(test, entry_point)
    return Sample(f"{prompt.rstrip()}\n\n### テストケース:\n{program.rstrip()}", str([program]))


def read_records(path: Path) -> list[dict]:
    try:
        data = read_gzip(path)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise MalformedRecordError(path, "document", f"not a gzip file ({e})") from e
    return [record for _, record in json_lines(data, path)]


def build(files: RawFiles) -> Splits:
    path = files.path(FILE)
    samples = []
    for i, record in enumerate(read_records(path), start=1):
        try:
            samples.append(_sample(record))
        except KeyError as e:
            raise MalformedRecordError(path, i, f"not a HumanEval record (missing field {e})") from e
        except TypeError as e:
            raise MalformedRecordError(path, i, f"not a HumanEval record ({e})") from e
    rest = samples[TRAIN_SIZE:]
    half = len(rest) // 2
    return {"train": samples[:TRAIN_SIZE], "dev": rest[:half], "test": rest[half:]}


DATASETS = [
    DatasetInfo(
        name="jhumaneval",
        category="CG",
        instruction=INSTRUCTION,
        output_length=1000,
        metrics=("code_exec",),
        source="jhumaneval",
        license="MIT",
        homepage="https://github.com/KuramitsuLab/jhuman-eval",
        build=build,
        answer_format="code",
        in_avg=False,
        unsafe_code=True,
    ),
]
