"""MMLU, English (hendrycks/test), dataset mmlu_en (llm-jp-eval v1.3's mmluen). MIT. Category HE.

Upstream: https://people.eecs.berkeley.edu/~hendrycks/data.tar (no pinned checksum; read in place).
Rules: llm-jp-eval v1.3.0 datasets/mmluen.py: folders dev/val/test → train/dev/test; per split, the subject CSVs in
sorted order, each shuffled (seed 42, reseeded per file), interleaved round-robin; input "Qusetion: …" (sic).
Deviations: v1.3's build under the v1.4 name: it targets v1.3.1's published mmluen.json sha256, not v1.4.1's
mmlu_en.json (v1.4 changed the instruction and output length); data.tar is not mirrored here: unchecked.
Details: docs/datasets.md#mmlu_en
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
        # llm-jp-eval v1.3.1's mmluen.json (this build's version); not v1.4.1's mmlu_en.json 4e37b02f… (see the header).
        published_dev_sha256="57436596f139a2857a5e6d183b0abbea42910c72a9911c69504c39a0f16c985a",
        published_dev_sha256_version="v1.3.1",
        answer_format="label",
        labels=("A", "B", "C", "D"),
    )
]
