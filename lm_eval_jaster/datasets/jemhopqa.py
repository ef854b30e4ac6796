"""JEMHopQA: Japanese explainable multi-hop QA (aiishii/JEMHopQA), dataset jemhopqa. CC BY-SA 4.0. Category QA.

Upstream: github.com/aiishii/JEMHopQA, branch main: corpus/train.json, corpus/dev.json.
Rules: llm-jp-eval v1.3.0 datasets/jemhopqa.py: train.json shuffled (seed 42) 9:1 → train/dev, dev.json → test;
input 質問：{question}, output answer.
Deviations: none (the dev file equals llm-jp-eval v1.4.1's published sha256).
Details: docs/datasets.md#jemhopqa
"""

from __future__ import annotations

import json
from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, split_train_dev


def _read(path: Path) -> list[Sample]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        return [Sample(f"質問：{r['question']}", r["answer"]) for r in records]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise MalformedRecordError(path, "document", f"not JEMHopQA JSON ({e!r})") from e


def build(files: RawFiles) -> Splits:
    train, dev = split_train_dev(_read(files.path("corpus/train.json")))
    return {"train": train, "dev": dev, "test": _read(files.path("corpus/dev.json"))}


DATASETS = [
    DatasetInfo(
        name="jemhopqa",
        category="QA",
        instruction="質問を入力とし、回答を出力してください。回答の他には何も含めないことを厳守してください。回答が'はい'と'いいえ'で答えることができる場合、'YES'と'NO'で答えてください。",
        output_length=15,
        metrics=("char_f1",),
        source="jemhopqa",
        license="CC BY-SA 4.0",
        homepage="https://github.com/aiishii/JEMHopQA",
        build=build,
        published_dev_sha256="7364e2e5381f1355f53109c73f8f506616b6690d686e96bba681585976f13399",
    )
]
