"""JCoLA (osekilab/JCoLA): jcola-in-domain, jcola-out-of-domain. CC BY-SA 4.0. Category CL, not in AVG.

Upstream: github.com/osekilab/JCoLA at commit 2bd75829 (v1.0): data/jcola-v1.0/{in_domain_train,in_domain_valid,
out_of_domain_valid}-v1.0.json (JSON lines).
Rules: llm-jp-eval v1.3.0 datasets/jcola.py (implemented, not in its "all"; no published hash): input sentence, output
str(label). In-domain: train shuffled (seed 42) 9:1 → train/dev, valid → test. Out-of-domain: valid shuffled, the
first 32 → train, the rest halved into dev and test.
Deviations: none.
Details: docs/datasets.md#jcola
"""

from __future__ import annotations

from pathlib import Path

from lm_eval_jaster.datasets.base import (DatasetInfo, RawFiles, Sample, Splits, read_json_lines, seeded_shuffle,
                                          split_train_dev)

PREFIX = "data/jcola-v1.0"
HOMEPAGE = "https://github.com/osekilab/JCoLA"
INSTRUCTION = 'これから提示する日本語の文章が文法的な誤りを含んでいるかを判断してください。文法的に正しい文章の場合1、誤りを含んでいる場合は0を出力してください。必ず1か0のどちらか1文字を出力し、それ以外には何も含めないことを厳守してください。'
NUM_TRAIN_EXAMPLES = 32


def _read(path: Path) -> list[Sample]:
    return read_json_lines(path, lambda r: Sample(r["sentence"], str(r["label"])), "a JCoLA record")


def build_in_domain(files: RawFiles) -> Splits:
    train, dev = split_train_dev(_read(files.path(f"{PREFIX}/in_domain_train-v1.0.json")))
    return {"train": train, "dev": dev, "test": _read(files.path(f"{PREFIX}/in_domain_valid-v1.0.json"))}


def build_out_of_domain(files: RawFiles) -> Splits:
    samples = seeded_shuffle(_read(files.path(f"{PREFIX}/out_of_domain_valid-v1.0.json")))
    rest = samples[NUM_TRAIN_EXAMPLES:]
    half = int(len(rest) / 2)
    return {"train": samples[:NUM_TRAIN_EXAMPLES], "dev": rest[:half], "test": rest[half:]}


def _info(name: str, build) -> DatasetInfo:
    return DatasetInfo(
        name=name,
        category="CL",
        instruction=INSTRUCTION,
        output_length=1,
        metrics=("exact_match",),
        source="jcola",
        license="CC BY-SA 4.0",
        homepage=HOMEPAGE,
        build=build,
        published_dev_sha256=None,  # not in llm-jp-eval v1.3.1/v1.4.1's dev files
        answer_format="label",
        labels=("0", "1"),
        in_avg=False,  # llm-jp-eval v1.4.1 did not run JCoLA
    )


DATASETS = [_info("jcola-in-domain", build_in_domain), _info("jcola-out-of-domain", build_out_of_domain)]
