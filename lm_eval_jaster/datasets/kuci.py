"""KUCI: Kyoto University Commonsense Inference dataset (ku-nlp/KUCI), dataset kuci. CC BY-SA 4.0. Category MC.

Upstream: github.com/ku-nlp/KUCI, branch main: dataset/{train,dev,test}.jsonl (no pinned checksum).
Rules: llm-jp-eval v1.4.x jaster/kuci.py: upstream train/dev/test in file order (no shuffle); morpheme spaces
removed; input 文脈：{context}\\n選択肢：0.{a},1.{b},2.{c},3.{d}, output the label's index (a→0 … d→3).
Deviations: none known, but input layout and labels are derived (the processor body was not read), and KUCI is not
mirrored here, so the build is unchecked against llm-jp-eval v1.4.1's published dev sha256.
Details: docs/datasets.md#kuci
"""

from __future__ import annotations

import json
from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits

FILES = {"train": "dataset/train.jsonl", "dev": "dataset/dev.jsonl", "test": "dataset/test.jsonl"}
CHOICE_KEYS = ("choice_a", "choice_b", "choice_c", "choice_d")
LABELS = "abcd"


def _unsegment(text: str) -> str:
    return text.replace(" ", "")


def _sample(record: dict) -> Sample:
    choices = ",".join(f"{i}.{_unsegment(record[key])}" for i, key in enumerate(CHOICE_KEYS))
    label = record["label"]
    if not isinstance(label, str) or len(label) != 1 or label not in LABELS:
        raise ValueError(f"label {label!r} is not one of a, b, c, d")
    return Sample(f"文脈：{_unsegment(record['context'])}\n選択肢：{choices}", str(LABELS.index(label)))


def _read(path: Path) -> list[Sample]:
    samples = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            try:
                samples.append(_sample(json.loads(line.strip())))
            except json.JSONDecodeError as e:
                raise MalformedRecordError(path, line_no, f"invalid JSON ({e.msg})") from e
            except KeyError as e:
                raise MalformedRecordError(path, line_no, f"not a KUCI record (missing field {e})") from e
            except (ValueError, TypeError, AttributeError) as e:
                raise MalformedRecordError(path, line_no, f"not a KUCI record ({e})") from e
    return samples


def build(files: RawFiles) -> Splits:
    return {split: _read(files.path(upstream)) for split, upstream in FILES.items()}


DATASETS = [
    DatasetInfo(
        name="kuci",
        category="MC",
        instruction='文脈と選択肢を入力として受け取り、選択肢から文脈の後に続く文として最も適切なものを選択してください。なお、回答は選択肢の番号（例：0）でするものとします。 回答となる数値をint型で返し、他には何も含めないことを厳守してください。',
        output_length=1,
        metrics=("exact_match",),
        source="kuci",
        license="CC BY-SA 4.0",
        homepage="https://github.com/ku-nlp/KUCI",
        build=build,
        # llm-jp-eval v1.4.1's published dev sha256; KUCI is not mirrored, so never checked against this build.
        published_dev_sha256="c56d18cefbc3fb38ab55e4a1c623e60432a0f142c6e49259d9cf7989ea845dfa",
        answer_format="choice",
    )
]
