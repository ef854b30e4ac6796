"""JaNLI: Japanese adversarial NLI (verypluming/JaNLI), dataset janli. CC BY-SA 4.0. Category NLI.

Upstream: github.com/verypluming/JaNLI, branch main: janli.tsv.
Rules: llm-jp-eval v1.3.0 datasets/janli.py: rows whose last column is "test" → test; the others shuffled (seed 42) 9:1
→ train/dev; input 前提：{row[1]}\\n仮説：{row[2]}, output row[3].
Deviations: none (the dev file equals llm-jp-eval v1.4.1's published sha256).
Details: docs/datasets.md#janli
"""

from __future__ import annotations

from lm_eval_jaster.datasets.base import DatasetInfo, RawFiles, Sample, Splits, nli_input, read_tsv, split_train_dev


def build(files: RawFiles) -> Splits:
    train_dev, test = [], []
    for row in read_tsv(files.path("janli.tsv"), 4):
        sample = Sample(nli_input(row[1], row[2]), row[3])
        # The last column names the official split; only "test" rows are kept apart.
        (test if row[-1].strip() == "test" else train_dev).append(sample)
    train, dev = split_train_dev(train_dev)
    return {"train": train, "dev": dev, "test": test}


DATASETS = [
    DatasetInfo(
        name="janli",
        category="NLI",
        instruction='前提と仮説の関係をentailment、non-entailmentの中から回答してください。それ以外には何も含めないことを厳守してください。\n\n制約：\n- 前提に対して仮説が同じ意味を含む場合は、entailmentと出力\n- 前提に対して仮説が異なる意味を含む場合は、non-entailmentと出力',
        output_length=7,
        metrics=("exact_match",),
        source="janli",
        license="CC BY-SA 4.0",
        homepage="https://github.com/verypluming/JaNLI",
        build=build,
        published_dev_sha256="9d6694bebbe78c5c02b4fd5da8af930c03cb65d7766042cfe5cad9031a9ce6ef",
        answer_format="label",
        labels=("entailment", "non-entailment"),
    )
]
