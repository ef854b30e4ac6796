"""Jamp: temporal NLI (tomo-ut/temporalNLI_dataset), CC BY-SA 4.0."""

from __future__ import annotations

from pathlib import Path

from lm_eval_jaster.datasets.base import (DatasetInfo, RawFiles, Sample, Splits, nli_input, require_columns,
                                          split_train_dev)


def _read_tsv(path: Path) -> list[Sample]:
    samples = []
    with path.open(encoding="utf-8") as f:
        next(f)  # header
        for line_no, line in enumerate(f, start=2):
            row = line.split("\t")
            require_columns(row, 4, path, line_no)
            samples.append(Sample(nli_input(row[1], row[2]), row[3]))
    return samples


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
