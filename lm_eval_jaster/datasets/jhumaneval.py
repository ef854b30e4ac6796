"""JHumanEval (KuramitsuLab/jhuman-eval ``data/jhuman-eval.jsonl.gz``), MIT. Category CG, not in AVG.

HumanEval (Chen et al. 2021) with hand-corrected Japanese docstrings (Sato et al., NLP2024). Read: the authors'
release in this project's mirror (164 JSON lines with ``task_id, prompt_en, prompt, entry_point,
canonical_solution, test``; HumanEval's format) and its README and MIT LICENSE. llm-jp-eval v1.4.1 did not run
JHumanEval (it appears in the v2 registry, scored by ``code_exec_sandbox``), so it is reported but never averaged
(``in_avg=False``) and has no published dev hash. llm-jp-eval v2 reads the Hugging Face copy
``kogi-jwu/jhumaneval``; whether it equals the authors' file was not verified.

llm-jp-eval's JHumanEval processor was **not read**. The format here is designed to be consistent with MBPP-ja
(:mod:`lm_eval_jaster.datasets.mbpp`), and the split follows a recollection of the v2 processor (unverified):

- the test program: HumanEval's ``test`` without its unused ``METADATA = {...}`` dict (problems 0–63 have one;
  llm-jp-eval v2 drops it too, as recollected), stripped, then ``check({entry_point})``;
- input ``f"{prompt.rstrip()}\\n\\n### テストケース:\\n{program.rstrip()}"`` — the Japanese function header and
  docstring, then the test program;
- output ``str([program])``: the gold is, as for MBPP-ja, the Python list literal of the test programs
  ``code_exec`` runs after the model's code (here one: HumanEval's ``check`` is kept whole, because its loops and
  helpers do not split into lines);
- the model writes the whole code (instruction as MBPP-ja's: plain code, no fences), so helpers that the prompt
  defines (e.g. ``poly`` for ``find_zero``) must be part of the answer;
- file order, no shuffle: the first 32 problems → train, the remaining 132 halved → dev (66) and test (66).

The answer is cut at the first blank line as for every Jaster task (llm-jp-eval's post-processing): code with
blank lines inside is cut there. Needs ``--confirm_run_unsafe_code``.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, read_gzip
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
    records = []
    try:
        data = read_gzip(path)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise MalformedRecordError(path, "document", f"not a gzip file ({e})") from e
    try:
        lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").readlines()
    except UnicodeDecodeError as e:
        raise MalformedRecordError(path, "document", f"not UTF-8 text ({e})") from e
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise MalformedRecordError(path, line_no, f"invalid JSON ({e.msg})") from e
    return records


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
