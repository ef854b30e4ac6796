"""JMMLU (nlp-waseda/JMMLU), its 53 CC BY-SA 4.0 subjects, dataset jmmlu. CC BY-SA 4.0. Category HE.

Upstream: github.com/nlp-waseda/JMMLU, branch main: JMMLU/<subject>.csv (utf-8-sig, no header).
Rules: llm-jp-eval v1.3.0 datasets/jmmlu.py: random.seed(42) once; per subject in SUBJECTS order, rows shuffled and
halved into a dev and a test pool; both pools shuffled; train = dev[:16] + test[:16], dev = dev[16:], test = test[16:].
Deviations: none against v1.3.1 (the dev file equals its published sha256). v1.4.1's differs, most likely because it
adds the three non-commercial subjects, which are not built here.
Details: docs/datasets.md#jmmlu
"""

from __future__ import annotations

import csv
import random

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits

SUBJECTS = [
    "econometrics", "human_aging", "high_school_psychology", "professional_medicine", "electrical_engineering",
    "college_mathematics", "medical_genetics", "formal_logic", "nutrition", "prehistory", "world_religions",
    "japanese_history", "high_school_geography", "international_law", "logical_fallacies", "human_sexuality",
    "philosophy", "college_medicine", "professional_accounting", "high_school_mathematics", "global_facts",
    "business_ethics", "high_school_chemistry", "college_physics", "high_school_statistics", "moral_disputes",
    "high_school_biology", "miscellaneous", "high_school_macroeconomics", "high_school_computer_science",
    "abstract_algebra", "elementary_mathematics", "jurisprudence", "security_studies", "high_school_physics",
    "college_computer_science", "public_relations", "management", "computer_security", "college_chemistry",
    "anatomy", "high_school_european_history", "machine_learning", "virology", "high_school_microeconomics",
    "astronomy", "world_history", "college_biology", "clinical_knowledge", "conceptual_physics",
    "professional_psychology", "sociology", "marketing",
]
NUM_TRAIN_EXAMPLES = 32
ANSWERS = ("A", "B", "C", "D")


def _read_subject(files: RawFiles, subject: str) -> list[Sample]:
    path = files.path(f"JMMLU/{subject}.csv")
    samples = []
    with path.open(encoding="utf-8-sig") as f:  # no newline="": llm-jp-eval reads with universal newlines
        reader = csv.reader(f, quoting=csv.QUOTE_ALL)
        try:
            for row in reader:
                if len(row) < 6:
                    raise MalformedRecordError(path, reader.line_num,
                                               f"expected 6 comma-separated fields, got {len(row)}")
                samples.append(Sample(f"質問：{row[0]}\n選択肢：A.{row[1]},B.{row[2]},C.{row[3]},D.{row[4]}", row[5]))
        except (csv.Error, UnicodeDecodeError) as e:
            raise MalformedRecordError(path, reader.line_num, f"not a JMMLU CSV ({e})") from e
    return samples


def build(files: RawFiles) -> Splits:
    rng = random.Random(42)
    dev_pool: list[Sample] = []
    test_pool: list[Sample] = []
    for subject in SUBJECTS:
        samples = _read_subject(files, subject)
        rng.shuffle(samples)
        dev_pool.extend(samples[: len(samples) // 2])
        test_pool.extend(samples[len(samples) // 2:])
    rng.shuffle(dev_pool)
    rng.shuffle(test_pool)
    half = NUM_TRAIN_EXAMPLES // 2
    return {"train": dev_pool[:half] + test_pool[:half], "dev": dev_pool[half:], "test": test_pool[half:]}


DATASETS = [
    DatasetInfo(
        name="jmmlu",
        category="HE",
        instruction='与えられた質問と選択肢から、最も適切な回答を選択してください。なお、回答には選択肢のアルファベット（例：A）のみを含め、他には何も含めないことを厳守してください。',
        output_length=1,
        metrics=("exact_match",),
        source="jmmlu",
        license="CC BY-SA 4.0",
        homepage="https://github.com/nlp-waseda/JMMLU",
        build=build,
        # llm-jp-eval v1.3.1's published dev sha256 (v1.4.1's 105ba564… is not reproduced: docs/datasets.md#jmmlu).
        published_dev_sha256="5a09be4c1784e49a3e5f75c9931e7c851d5a5b58666ccfa00c782812988d0e7c",
        published_dev_sha256_version="v1.3.1",
        answer_format="label",
        labels=ANSWERS,
    )
]
