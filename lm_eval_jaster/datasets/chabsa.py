"""chABSA: aspect-based sentiment of Japanese securities reports (chakki-works/chABSA-dataset). CC BY 4.0. Category EL.

Upstream: chABSA-dataset.zip from S3 (dev.tech-sketch.jp/chakki/public), chABSA-dataset/*.json; no pinned checksum.
Rules: llm-jp-eval v1.3.0 datasets/chabsa.py: files in sorted order, sentences without opinions skipped, input
文章：{sentence}, output one "target polarity" line per opinion; all samples shuffled (seed 42) 8:1:1.
Deviations: none; the members are read straight from the zip (no extraction).
Details: docs/datasets.md#chabsa
"""

from __future__ import annotations

import json
import zipfile

from lm_eval_jaster.datasets.base import (DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, read_zip_member,
                                          seeded_shuffle)

ZIP_NAME = "chABSA-dataset.zip"


def build(files: RawFiles) -> Splits:
    path = files.path(ZIP_NAME)
    samples = []
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise MalformedRecordError(path, "archive", f"not a zip file ({e})") from e
    with archive:
        members = sorted(n for n in archive.namelist()
                         if n.startswith("chABSA-dataset/") and n.endswith(".json") and n.count("/") == 1)
        if not members:
            raise MalformedRecordError(path, "archive", "no chABSA-dataset/*.json member")
        for member in members:
            try:
                document = json.loads(read_zip_member(archive, member, path).decode("utf-8"))
                for sentence in document["sentences"]:
                    targets = [f"{o['target']} {o['polarity']}" for o in sentence["opinions"]]
                    if targets:  # sentences without opinions are skipped
                        samples.append(Sample(f"文章：{sentence['sentence']}", "\n".join(targets)))
            except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
                raise MalformedRecordError(f"{path}!{member}", "document", f"not chABSA JSON ({e!r})") from e
    seeded_shuffle(samples)
    n = len(samples)
    return {"train": samples[: int(n * 0.8)], "dev": samples[int(n * 0.8): int(n * 0.9)], "test": samples[int(n * 0.9):]}


DATASETS = [
    DatasetInfo(
        name="chabsa",
        category="EL",
        instruction='与えられた文章から固有表現で書かれたターゲットの名前を抽出し、それに対する極性をpositive、neutral、negativeの中から選択して下さい。固有表現で書かれたターゲットの名前と、それに対する極性（positive、neutral、negativeのいずれか）のペアをスペース（ ）で区切って出力し、それ以外には何も含めないことを厳守してください。答えが複数の場合、改行で繋げてください。ただし、ターゲットは固有表現である市場、市況、会社/法人、グループ、会社内の部門、事業部、事業領域、製品、サービスの名称などを指すこととします。',
        output_length=191,
        metrics=("set_f1",),
        source="chabsa",
        license="CC BY 4.0",
        homepage="https://github.com/chakki-works/chABSA-dataset",
        build=build,
        published_dev_sha256="a04db94fd91894ed48593d2824b70fed9a241fd7e81aea854a8d32af1389a592",
        answer_format="pairs",
        line_pattern=r"\S.* (?:positive|negative|neutral)",  # "target polarity"
    )
]
