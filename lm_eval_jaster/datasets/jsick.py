"""JSICK: Japanese SICK (verypluming/JSICK), dataset jsick. CC BY-SA 4.0. Category NLI.

Upstream: github.com/verypluming/JSICK, branch main: jsick/train.tsv, jsick/test.tsv.
Rules: llm-jp-eval v1.3.0 datasets/jsick.py: train.tsv shuffled (seed 42) 9:1 → train/dev, test.tsv → test; input
前提：{sentence_A_Ja}\\n仮説：{sentence_B_Ja}, output entailment_label_Ja.
Deviations: none (the dev file equals llm-jp-eval v1.4.1's published sha256).
Details: docs/datasets.md#jsick
"""

from __future__ import annotations

from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, RawFiles, Sample, Splits, nli_input, read_tsv, split_train_dev


def _read_tsv(path: Path) -> list[Sample]:
    # sentence_A_Ja, sentence_B_Ja, entailment_label_Ja
    return [Sample(nli_input(row[8], row[9]), row[10]) for row in read_tsv(path, 11)]


def build(files: RawFiles) -> Splits:
    train, dev = split_train_dev(_read_tsv(files.path("jsick/train.tsv")))
    return {"train": train, "dev": dev, "test": _read_tsv(files.path("jsick/test.tsv"))}


DATASETS = [
    DatasetInfo(
        name="jsick",
        category="NLI",
        instruction='前提と仮説の関係をentailment、contradiction、neutralの中から回答してください。それ以外には何も含めないことを厳守してください。\n\n制約：\n- 前提が真であるとき仮説が必ず真になる場合はentailmentと出力\n- 前提が真であるとき仮説が必ず偽になる場合はcontradictionと出力\n- そのいずれでもない場合はneutralと出力',
        output_length=3,
        metrics=("exact_match",),
        source="jsick",
        license="CC BY-SA 4.0",
        homepage="https://github.com/verypluming/JSICK",
        build=build,
        published_dev_sha256="bd4291ab4b325654ec8e1b9f2f4d69f6508b7d071d4da41b7cafc9eeb297f33e",
        answer_format="label",
        labels=("entailment", "contradiction", "neutral"),
    )
]
