"""JMMLU (nlp-waseda/JMMLU, branch main), the 53 CC BY-SA 4.0 subjects of ``JMMLU/``; CC BY-SA 4.0.

Built as llm-jp-eval v1.3.0 builds it; the dev file is byte-identical to the **v1.3.1** published sha256
(llm-jp/scripts ``llm-jp-eval-v1.3.1/resources/sha256sums.csv``: ``5a09be4c…``), which is what
``published_dev_sha256`` holds. v1.4.1 publishes another dev hash (``105ba564…``): its installer preprocesses
``all-with-nc``, most likely adding the three CC BY-NC-ND subjects of ``JMMLU_NC_ND/`` (japanese_civics,
japanese_geography, japanese_idiom), which the mirror does not hold; output lengths 1–10 and a sorted subject
order were tried on the 53 subjects and none gives ``105ba564…`` (not reproduced, see the module tests).

Rule (llm-jp-eval ``datasets/jmmlu.py``): ``random.seed(42)`` once; for each subject in ``SUBJECTS`` order (not
alphabetical) the CSV rows (``utf-8-sig``, no header, universal newlines) are shuffled, the first ``len // 2`` go
to a dev pool and the rest to a test pool; then the dev pool and the test pool are shuffled;
train = dev[:16] + test[:16], dev = dev[16:], test = test[16:].

``SUBJECTS`` is llm-jp-eval's ``FILENAMES`` list. Its first 21 names were read in llm-jp-eval's own
``jmmlu.py`` excerpts; the complete list in a verbatim copy of that processor in wandb/llm-leaderboard
(``scripts/datasets/jmmlu_symbol_choice.py``). The order is confirmed by the v1.3.1 hash.
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
        # llm-jp-eval v1.3.1's published dev sha256 (v1.4.1's 105ba564… is not reproducible here; see above).
        published_dev_sha256="5a09be4c1784e49a3e5f75c9931e7c851d5a5b58666ccfa00c782812988d0e7c",
        published_dev_sha256_version="v1.3.1",
        answer_format="label",
        labels=ANSWERS,
    )
]
