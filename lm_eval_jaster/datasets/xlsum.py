"""XL-Sum, Japanese part (csebuetnlp/xl-sum v2.0), dataset xlsum_ja. CC BY-NC-SA 4.0 (non-commercial). Category SUM.

Upstream: huggingface.co/datasets/csebuetnlp/xlsum data/japanese_XLSum_v2.0.tar.bz2, japanese_{train,val,test}.jsonl
(no pinned checksum; read in place).
Rules: llm-jp-eval v1.4 jaster/xlsum_ja.py: XL-Sum's own splits (val → dev), articles longer than max_char_length
dropped from every split; input text, output summary, file order.
Deviations: only the split rule and length filter were read; the URL, max_char_length 2048, instruction, output length
and metric list are inferred or recalled, unchecked against the published dev sha256 (not mirrored here).
Details: docs/datasets.md#xlsum
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from lm_eval_jaster.datasets.base import (DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, json_lines,
                                          read_tar_member)

ARCHIVE = "japanese_XLSum_v2.0.tar.bz2"
SPLIT_FILES = {"train": "japanese_train.jsonl", "dev": "japanese_val.jsonl", "test": "japanese_test.jsonl"}
MAX_CHAR_LENGTH = 2048


def _read_split(archive: tarfile.TarFile, path: Path, member: tarfile.TarInfo) -> list[Sample]:
    where = f"{path}!{member.name}"
    samples = []
    for line_no, record in json_lines(read_tar_member(archive, member, path), where):
        try:
            text, summary = record["text"], record["summary"]
        except (KeyError, TypeError) as e:
            raise MalformedRecordError(where, line_no, f"not an XL-Sum record (missing {e})") from e
        if not isinstance(text, str) or not isinstance(summary, str):
            raise MalformedRecordError(where, line_no, "text and summary must be strings")
        if len(text) > MAX_CHAR_LENGTH:
            continue
        samples.append(Sample(text, summary))
    return samples


def build(files: RawFiles) -> Splits:
    path = files.path(ARCHIVE)
    try:
        archive = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as e:
        raise MalformedRecordError(path, "archive", f"not a tar archive ({e})") from e
    with archive:
        try:
            members = {m.name.rsplit("/", 1)[-1]: m for m in archive.getmembers() if m.isfile()}
            splits = {}
            for split, name in SPLIT_FILES.items():
                if name not in members:
                    raise MalformedRecordError(path, "archive", f"no {name} member")
                splits[split] = _read_split(archive, path, members[name])
        except (tarfile.TarError, EOFError, OSError) as e:
            raise MalformedRecordError(path, "archive", f"truncated or corrupted archive ({e})") from e
    return splits


DATASETS = [
    DatasetInfo(
        name="xlsum_ja",
        category="SUM",
        instruction="与えられたニュース記事を要約してください。",
        output_length=512,
        metrics=("rouge1", "rouge2", "rougeLsum", "bleu_ja", "bert_score_ja_f1"),
        key="rouge2",
        source="xlsum_ja",
        license="CC BY-NC-SA 4.0",
        homepage="https://github.com/csebuetnlp/xl-sum",
        build=build,
        published_dev_sha256="44f2e6805f3f269fa577ca57bab81a12ff154c4220ee74861b53581ea8e5c1a5",
        answer_format="text",
        non_commercial=True,
    )
]
