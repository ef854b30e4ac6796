"""AIO (AI王): JAQKET quiz questions, dataset aio. CC BY-SA 4.0. Category QA.

Upstream: https://jaqket.s3.ap-northeast-1.amazonaws.com/data/aio_02/ aio_01_dev.jsonl and aio_01_test.jsonl (no
train file; no pinned checksum).
Rules: llm-jp-eval v1.4.x jaster/aio.py: the dev file shuffled (seed 42) 9:1 → train/dev, the test file → test in file
order; input 質問：{question}, output answers[0].
Deviations: none known, but the rules are derived (the processor body was not read), and AIO is not mirrored here, so
the build is unchecked against llm-jp-eval v1.4.1's published dev sha256.
Details: docs/datasets.md#aio
"""

from __future__ import annotations

from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, RawFiles, Sample, Splits, read_json_lines, split_train_dev

DEV_FILE = "aio_01_dev.jsonl"
TEST_FILE = "aio_01_test.jsonl"


def _read(path: Path) -> list[Sample]:
    return read_json_lines(path, lambda r: Sample(f"質問：{r['question']}", r["answers"][0]), "an AIO record")


def build(files: RawFiles) -> Splits:
    train, dev = split_train_dev(_read(files.path(DEV_FILE)))
    return {"train": train, "dev": dev, "test": _read(files.path(TEST_FILE))}


DATASETS = [
    DatasetInfo(
        name="aio",
        category="QA",
        instruction='質問を入力とし、回答を出力してください。回答の他には何も含めないことを厳守してください。',
        output_length=50,
        metrics=("char_f1",),
        source="aio",
        license="CC BY-SA 4.0",
        homepage="https://sites.google.com/view/project-aio/dataset",
        build=build,
        # llm-jp-eval v1.4.1's published dev sha256; AIO is not mirrored, so never checked against this build.
        published_dev_sha256="98d951150a86ce9d96caa0d53262a9bc2eb6d1cf91a0c191089eae2af452be3f",
    )
]
