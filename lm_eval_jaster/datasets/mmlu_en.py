"""MMLU, English (hendrycks/test ``data.tar``), MIT; llm-jp-eval's ``mmluen`` (v1.3), renamed ``mmlu_en`` in v1.4.

Built as llm-jp-eval **v1.3.0** ``datasets/mmluen.py`` builds it (spec §6, source-verified there), under the
v1.4 task name. Upstream folders map dev → **train**, val → **dev**, test → **test**. For each split, every
``data/<folder>/<subject>_<folder>.csv`` in sorted order is read (no header) and shuffled with ``random.seed(42)``
re-seeded per file; the subjects are then interleaved round-robin for ``i < min_n`` (the smallest subject's size),
and each subject's remainder is appended in subject order. Input
``"Qusetion: {q}\\nChoices: A.{a}, B.{b}, C.{c}, D.{d}"`` (sic: llm-jp-eval's typo is part of the data), output
the answer letter. The CSVs are read straight from the tar (no extraction), with universal newlines.

Published hash: the build is v1.3's, so ``published_dev_sha256`` is llm-jp-eval v1.3.1's ``mmluen.json``
(``57436596…``), checkable wherever ``data.tar`` is available (not in this project's mirror; unverified here).
v1.4.1's ``mmlu_en.json`` (``4e37b02f…``) is a different file: v1.4-era ``jaster/mmlu_en.py`` excerpts show another
instruction ("Select an answer from the choices provided. …") and ``output_length = 3`` and a pandas-based reader
whose body was not read, so this build cannot match it.
"""

from __future__ import annotations

import csv
import io
import random
import tarfile
from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, read_tar_member

TAR_NAME = "data.tar"
FOLDERS = {"train": "dev", "dev": "val", "test": "test"}  # our split → upstream folder


def _read_csv(archive: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> list[Sample]:
    where = f"{path}!{member.name}"
    samples = []
    data = read_tar_member(archive, member, path)
    with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8") as f:  # newline=None: universal newlines, as open()
        reader = csv.reader(f, quoting=csv.QUOTE_ALL)
        try:
            for row in reader:
                if len(row) < 6:
                    raise MalformedRecordError(where, reader.line_num,
                                               f"expected 6 comma-separated fields, got {len(row)}")
                samples.append(Sample(f"Qusetion: {row[0]}\nChoices: A.{row[1]}, B.{row[2]}, C.{row[3]}, D.{row[4]}",
                                      row[5]))
        except (csv.Error, UnicodeDecodeError) as e:
            raise MalformedRecordError(where, reader.line_num, f"not an MMLU CSV ({e})") from e
    return samples


def _interleave(per_subject: list[list[Sample]]) -> list[Sample]:
    if not per_subject:
        return []
    min_n = min(len(s) for s in per_subject)
    merged = [subject[i] for i in range(min_n) for subject in per_subject]
    for subject in per_subject:
        merged.extend(subject[min_n:])
    return merged


def build(files: RawFiles) -> Splits:
    path = files.path(TAR_NAME)
    try:
        archive = tarfile.open(path)
    except tarfile.TarError as e:
        raise MalformedRecordError(path, "archive", f"not a tar file ({e})") from e
    splits: Splits = {}
    with archive:
        members = {m.name.removeprefix("./"): m for m in archive.getmembers() if m.isfile()}
        for split, folder in FOLDERS.items():
            prefix, suffix = f"data/{folder}/", f"_{folder}.csv"
            names = sorted(n for n in members if n.startswith(prefix) and n.endswith(suffix) and n.count("/") == 2)
            if not names:
                raise MalformedRecordError(path, "archive", f"no {prefix}*{suffix} member")
            per_subject = []
            for name in names:
                samples = _read_csv(archive, members[name], path)
                random.Random(42).shuffle(samples)  # random.seed(42) before every file
                per_subject.append(samples)
            splits[split] = _interleave(per_subject)
    return splits


DATASETS = [
    DatasetInfo(
        name="mmlu_en",
        category="HE",
        instruction='Please input a question along with multiple-choice answers, and select an answer from the choices provided. Note that the answer should be indicated by the letter of the choice (e.g., A) in str format. Return the letter that represents the answer in str format and ensure that nothing else is included.',
        output_length=1,
        metrics=("exact_match",),
        source="mmlu_en",
        license="MIT",
        homepage="https://github.com/hendrycks/test",
        build=build,
        # llm-jp-eval v1.3.1's mmluen.json (this build's version); not v1.4.1's mmlu_en.json 4e37b02f… (see above).
        published_dev_sha256="57436596f139a2857a5e6d183b0abbea42910c72a9911c69504c39a0f16c985a",
        published_dev_sha256_version="v1.3.1",
        answer_format="label",
        labels=("A", "B", "C", "D"),
    )
]
