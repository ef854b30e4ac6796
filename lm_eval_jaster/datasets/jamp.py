"""Jamp: temporal NLI (tomo-ut/temporalNLI_dataset), dataset jamp. CC BY-SA 4.0. Category NLI.

Upstream: github.com/tomo-ut/temporalNLI_dataset, branch main: dataset/train_all.tsv, dataset/test_2.tsv.
Rules: llm-jp-eval v1.3.0 datasets/jamp.py: train_all.tsv shuffled (seed 42) 9:1 → train/dev, test_2.tsv → test;
input 前提：{row[1]}\\n仮説：{row[2]}, output row[3].
Deviations: none (the dev file equals llm-jp-eval v1.4.1's published sha256).
Details: docs/datasets.md#jamp
"""

from __future__ import annotations

from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, RawFiles, Sample, Splits, nli_input, read_tsv, split_train_dev


def _read_tsv(path: Path) -> list[Sample]:
    return [Sample(nli_input(row[1], row[2]), row[3]) for row in read_tsv(path, 4)]


def build(files: RawFiles) -> Splits:
    train, dev = split_train_dev(_read_tsv(files.path("dataset/train_all.tsv")))
    return {"train": train, "dev": dev, "test": _read_tsv(files.path("dataset/test_2.tsv"))}


DATASETS = [
    DatasetInfo(
        name="jamp",
        category="NLI",
        instruction='前提と仮説の関係をentailment、contradiction、neutralの中から回答してください。それ以外には何も含めないことを厳守してください。\n\n制約：\n- 前提から仮説が、時間関係上導出可能である場合はentailmentと出力\n- 前提と仮説が両立しえない場合はcontradictionと出力\n- そのいずれでもない場合はneutralと出力',
        output_length=3,
        metrics=("exact_match",),
        source="jamp",
        license="CC BY-SA 4.0",
        homepage="https://github.com/tomo-ut/temporalNLI_dataset",
        build=build,
        published_dev_sha256="bee9d6124ccc20b02e2dc42b75c0548f9caf0a8c88af164ee726eebdb28c17cc",
        answer_format="label",
        labels=("entailment", "contradiction", "neutral"),
    )
]
