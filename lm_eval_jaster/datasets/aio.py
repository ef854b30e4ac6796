"""AIO (AI王, JAQKET ``aio_01_dev.jsonl`` / ``aio_01_test.jsonl``), CC BY-SA 4.0.

llm-jp-eval v1.4.x ``jaster/aio.py``. Read in llm-jp-eval source excerpts: the two files (dev and test; there is
no train file), the instruction, ``output_length = 50`` ("all answers are at most 30 characters"), metrics
``char_f1``, and that the processor imports ``json`` and ``random``. **Derived, not read** (the body was not
available, and AIO is not in this project's mirror, so llm-jp-eval v1.4.1's dev sha256 ``98d95115…`` could not be
checked): llm-jp-eval's rule for a source with a dev/train file and a test file —

- ``aio_01_dev.jsonl`` → ``random.seed(42)``, shuffle, first ``int(n * 0.9)`` train, the rest dev;
- ``aio_01_test.jsonl`` → test, in file order;
- input ``質問：{question}`` (as JEMHopQA/NIILC), output ``answers[0]``.

Licence: JAQKET / AI王 quiz data are distributed under CC BY-SA 4.0.
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
