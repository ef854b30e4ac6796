"""MAWPS in Japanese (nlp-waseda/chain-of-thought-ja-dataset), dataset mawps. Apache-2.0. Category MR.

Upstream: github.com/nlp-waseda/chain-of-thought-ja-dataset at commit 2ad9fcbc: dataset/mawps/{zero_shot_example,
shot_example,test}.json.
Rules: llm-jp-eval v1.3.0 datasets/mawps.py: train = the worked examples (unshuffled; the answer between 答えは and
です。); test.json shuffled (seed 42) and halved into dev and test.
Deviations: none (the dev file equals llm-jp-eval v1.4.1's published sha256).
Details: docs/datasets.md#mawps
"""

from __future__ import annotations

import json
from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, seeded_shuffle

QA_DELIMITER = "\n解答："


def _load(path: Path) -> list:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise MalformedRecordError(path, f"line {e.lineno}", f"invalid JSON ({e.msg})") from e


def build(files: RawFiles) -> Splits:
    # Train = the worked examples, unshuffled; the answer sits between "答えは" and "です。".
    train = []
    for name in ("dataset/mawps/zero_shot_example.json", "dataset/mawps/shot_example.json"):
        path = files.path(name)
        for i, example in enumerate(_load(path)):
            try:
                question, answer = example["shot_example"].split(QA_DELIMITER)
                train.append(Sample(question, answer.split("答えは")[1].split("です。")[0]))
            except (KeyError, ValueError, IndexError) as e:
                raise MalformedRecordError(path, f"item {i}", f"not a MAWPS shot example ({e!r})") from e
    path = files.path("dataset/mawps/test.json")
    try:
        test_dev = [Sample(ex["question"].split(QA_DELIMITER)[0], ex["answer"]) for ex in _load(path)]
    except (KeyError, TypeError) as e:
        raise MalformedRecordError(path, "document", f"not MAWPS test JSON ({e!r})") from e
    seeded_shuffle(test_dev)
    half = int(len(test_dev) / 2)
    return {"train": train, "dev": test_dev[:half], "test": test_dev[half:]}


DATASETS = [
    DatasetInfo(
        name="mawps",
        category="MR",
        instruction='与えられた計算問題に対する答えを整数または小数で出力してください。数値のみを出力し、それ以外には何も含めないことを厳守してください。',
        output_length=10,
        metrics=("exact_match",),
        source="mawps",
        license="Apache-2.0",
        homepage="https://github.com/nlp-waseda/chain-of-thought-ja-dataset",
        build=build,
        published_dev_sha256="b9c26eb7e2daa3ed53b5f174651bec44ed74f45799e81bb12f448046d4e04052",
        answer_format="number",
    )
]
