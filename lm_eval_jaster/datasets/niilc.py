"""NIILC question answering corpus (mynlp/niilc-qa), dataset niilc. CC BY-SA 4.0. Category QA.

Upstream: github.com/mynlp/niilc-qa, branch master: data/NIILC-ECQA2015_dev.xml, data/NIILC-ECQA2015_test.xml.
Rules: llm-jp-eval v1.3.0 datasets/niilc.py: dev shuffled (seed 42) 9:1 → train/dev, test → test; input 質問：{text},
output the answers joined with ","; unanswerable questions ("-") skipped.
Deviations: none (the dev file equals llm-jp-eval v1.4.1's published sha256).
Details: docs/datasets.md#niilc
"""

from __future__ import annotations

from pathlib import Path

import xmltodict

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, split_train_dev


def _read(path: Path) -> list[Sample]:
    try:
        questions = xmltodict.parse(path.read_text(encoding="utf-8"))["questions"]["question"]
    except Exception as e:
        raise MalformedRecordError(path, "document", f"cannot parse NIILC XML ({e})") from e
    samples = []
    for q in questions:
        answers = q["answers"]["answer"]
        answer = ",".join(a for a in answers if a) if isinstance(answers, list) else answers
        if answer == "-":  # unanswerable questions are skipped by llm-jp-eval
            continue
        samples.append(Sample(f"質問：{q['text']}", answer))
    return samples


def build(files: RawFiles) -> Splits:
    train, dev = split_train_dev(_read(files.path("data/NIILC-ECQA2015_dev.xml")))
    return {"train": train, "dev": dev, "test": _read(files.path("data/NIILC-ECQA2015_test.xml"))}


DATASETS = [
    DatasetInfo(
        name="niilc",
        category="QA",
        instruction='質問に対する答えを出力してください。回答の他には何も含めないことを厳守してください。答えが複数の場合、コンマ（,）で繋げてください。',
        output_length=180,
        metrics=("char_f1",),
        source="niilc",
        license="CC BY-SA 4.0",
        homepage="https://github.com/mynlp/niilc-qa",
        build=build,
        published_dev_sha256="ff0cf49012ad6416b0828cbcf16882cafc68c30483e4ef51863641d23fe1befc",
    )
]
