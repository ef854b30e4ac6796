"""MBPP-ja: MBPP translated into Japanese by LLM-jp (llm-jp/mbpp-ja), dataset mbpp. CC BY 4.0. Category CG.

Upstream: huggingface.co/datasets/llm-jp/mbpp-ja, branch main: mbpp_translation.jsonl (974 problems; no pinned
checksum).
Rules: llm-jp-eval v1.4.x jaster/mbpp.py: input {text_jpn}\\n\\n### テストケース:\\n{test_list lines}, output
str(test_list); file order, rows 10–509 → test, 510–599 → dev, 600–973 → train; no shuffle; 0-shot.
Deviations: none known, but the layout and split are recollected (the processor body was not read), and MBPP-ja is not
mirrored here, so the build is unchecked against llm-jp-eval v1.4.1's published dev sha256. Runs model-written code:
needs --confirm_run_unsafe_code.
Details: docs/datasets.md#mbpp
"""

from __future__ import annotations

import json
from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits
from lm_eval_jaster.datasets.code_tasks import INSTRUCTION

FILE = "mbpp_translation.jsonl"
TEST_ROWS = range(10, 510)
DEV_ROWS = range(510, 600)
TRAIN_FROM = 600



def _sample(record: dict) -> Sample:
    tests = record["test_list"]
    text = record["text_jpn"]
    if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests) or not isinstance(text, str):
        raise TypeError("text_jpn must be a string and test_list a list of strings")
    test_cases = "\n".join(tests)
    return Sample(f"{text}\n\n### テストケース:\n{test_cases}", str(tests))


def _read(path: Path) -> list[Sample]:
    samples = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                samples.append(_sample(json.loads(line)))
            except json.JSONDecodeError as e:
                raise MalformedRecordError(path, line_no, f"invalid JSON ({e.msg})") from e
            except KeyError as e:
                raise MalformedRecordError(path, line_no, f"not an MBPP-ja record (missing field {e})") from e
            except TypeError as e:
                raise MalformedRecordError(path, line_no, f"not an MBPP-ja record ({e})") from e
    return samples


def build(files: RawFiles) -> Splits:
    path = files.path(FILE)
    samples = _read(path)
    if len(samples) <= TRAIN_FROM:
        raise MalformedRecordError(path, "document", f"{len(samples)} problems; MBPP-ja has 974")
    return {"train": samples[TRAIN_FROM:],
            "dev": samples[DEV_ROWS.start:DEV_ROWS.stop],
            "test": samples[TEST_ROWS.start:TEST_ROWS.stop]}


DATASETS = [
    DatasetInfo(
        name="mbpp",
        category="CG",
        instruction=INSTRUCTION,
        output_length=1000,
        # pylint_check is computed when pylint is installed (optional dependency); code_exec is the score.
        metrics=("code_exec", "pylint_check"),
        source="mbpp",
        license="CC BY 4.0",
        homepage="https://huggingface.co/datasets/llm-jp/mbpp-ja",
        build=build,
        # llm-jp-eval v1.4.1's published dev sha256; MBPP-ja is not mirrored, so never checked against this build.
        published_dev_sha256="92ad569be57387e1103d859bfb8020a47bda24965e551bf2ae98c20847613c6d",
        answer_format="code",
        unsafe_code=True,
    ),
]
