"""JSeM: Japanese FraCaS-style semantics test suite (DaisukeBekki/JSeM), dataset jsem. BSD 3-Clause. Category NLI.

Upstream: github.com/DaisukeBekki/JSeM, branch master: the 22 files data/v1.0/<name>.xml.
Rules: llm-jp-eval v1.3.0 datasets/jsem.py: files in its order, problems whose answer is empty, infelicitous,
unacceptable or weakacceptable skipped, premises concatenated; all shuffled (seed 42) 8:1:1.
Deviations: none (the dev file equals llm-jp-eval v1.4.1's published sha256).
Details: docs/datasets.md#jsem
"""

from __future__ import annotations

import xmltodict

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits, nli_input, seeded_shuffle

# llm-jp-eval's file order (not alphabetical: "NP" precedes "NewAdjective").
FILES = ["Adjectives", "Adverb", "Attitudes", "AuxiliaryVerb", "CaseParticle", "Comparatives", "CompoundAdjective",
         "CompoundVerb", "Conditional", "Conjunction", "Coordination", "Ellipsis", "GeneralizedQuantifier", "Modality",
         "NP", "NewAdjective", "NominalAnaphora", "Plurals", "Question", "TemporalReference", "Toritate", "Verbs"]
SKIPPED_ANSWERS = {"", "infelicitous", "unacceptable", "weakacceptable"}


def build(files: RawFiles) -> Splits:
    samples = []
    for name in FILES:
        path = files.path(f"data/v1.0/{name}.xml")
        try:
            problems = xmltodict.parse(path.read_text(encoding="utf-8"))["jsem-dataset"]["problem"]
        except Exception as e:  # expat errors, missing root
            raise MalformedRecordError(path, "document", f"cannot parse JSeM XML ({e})") from e
        for problem in problems:
            if problem["@answer"] in SKIPPED_ANSWERS:
                continue
            premises = problem["p"]
            premise = "".join(p["script"] for p in premises) if isinstance(premises, list) else premises["script"]
            samples.append(Sample(nli_input(premise, problem["h"]["script"]), problem["@answer"]))
    seeded_shuffle(samples)
    n = len(samples)
    return {"train": samples[: int(n * 0.8)], "dev": samples[int(n * 0.8): int(n * 0.9)], "test": samples[int(n * 0.9):]}


DATASETS = [
    DatasetInfo(
        name="jsem",
        category="NLI",
        instruction='前提と仮説の関係をyes、no、unknown、undefの中から回答してください。それ以外には何も含めないことを厳守してください。\n\n制約：\n- 前提が仮説を含意する場合はyesと出力\n- 前提が仮説の否定を含意する場合はnoと出力\n- 前提が仮説を含意せず、その否定も含意しない場合はunknownと出力\n- 与えられた情報のみからは判断ができない場合はundefと出力',
        output_length=3,
        metrics=("exact_match",),
        source="jsem",
        license="BSD 3-Clause",
        homepage="https://github.com/DaisukeBekki/JSeM",
        build=build,
        published_dev_sha256="a5bb328dfbe008cdd2595cdaa2cacfb17086506ba1776ec01cbb8cc002d7f329",
        answer_format="label",
        labels=("yes", "no", "unknown", "undef"),
    )
]
