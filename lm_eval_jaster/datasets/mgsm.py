"""MGSM, Japanese (google-research/url-nlp mgsm/), dataset mgsm. CC BY 4.0. Category MR, not in AVG.

Upstream: github.com/google-research/url-nlp, branch main: mgsm/mgsm_ja.tsv (250 problems) and mgsm/exemplars.py (no
pinned checksum; parsed with ast, never run).
Rules: not run by llm-jp-eval v1.4.1 (no published hash): test = mgsm_ja.tsv in file order, input 質問：{question},
output the integer answer; train = the 8 Japanese exemplars.
Deviations: the processor body was not read (derived); thousands separators are dropped from answers as in the
Hugging Face copy; dev repeats the test problems (llm-jp-eval has no MGSM dev split).
Details: docs/datasets.md#mgsm
"""

from __future__ import annotations

import ast
import csv
from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits

TSV = "mgsm/mgsm_ja.tsv"
EXEMPLARS = "mgsm/exemplars.py"
QUESTION_PREFIX = "問題："


def _read_test(path: Path) -> list[Sample]:
    samples = []
    with path.open(encoding="utf-8", newline="") as f:
        for line_no, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
            if len(row) != 2:
                raise MalformedRecordError(path, line_no, f"expected 'question<TAB>answer', got {len(row)} columns")
            try:  # the Hugging Face copy's answer_number: an int, thousands separators dropped ("5,600" → 5600)
                answer = str(int(row[1].replace(",", "")))
            except ValueError as e:
                raise MalformedRecordError(path, line_no, f"answer {row[1]!r} is not an integer") from e
            samples.append(Sample(f"質問：{row[0]}", answer))
    return samples


def _assigned_literals(path: Path) -> dict[str, object]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError) as e:
        raise MalformedRecordError(path, getattr(e, "lineno", None) or "document", f"not Python source ({e})") from e
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError as e:
                raise MalformedRecordError(path, node.lineno, f"{node.targets[0].id} is not a literal") from e
    return values


def _read_train(path: Path) -> list[Sample]:
    values = _assigned_literals(path)
    try:
        exemplars = values["MGSM_EXEMPLARS"]["ja"]
        answers = values["EXEMPLAR_NUMBER_ANSWERS"]
        keys = sorted(exemplars, key=int)
        if len(answers) < len(keys):
            raise ValueError(f"{len(keys)} exemplars but {len(answers)} answers")
        samples = []
        for i, key in enumerate(keys):
            question = exemplars[key]["q"]
            question = question[len(QUESTION_PREFIX):] if question.startswith(QUESTION_PREFIX) else question
            samples.append(Sample(f"質問：{question}", str(answers[i])))
        return samples
    except (KeyError, TypeError, ValueError) as e:
        raise MalformedRecordError(path, "document", f"not MGSM's exemplars.py ({e!r})") from e


def build(files: RawFiles) -> Splits:
    test = _read_test(files.path(TSV))
    return {"train": _read_train(files.path(EXEMPLARS)), "dev": list(test), "test": test}


DATASETS = [
    DatasetInfo(
        name="mgsm",
        category="MR",
        instruction='質問を入力とし、数字のみの回答を出力してください。回答の他には何も含めないことを厳守してください。',
        output_length=10,
        metrics=("exact_match",),
        source="mgsm",
        license="CC BY 4.0",
        homepage="https://github.com/google-research/url-nlp/tree/main/mgsm",
        build=build,
        published_dev_sha256=None,  # llm-jp-eval v1.4.1 did not build MGSM
        answer_format="number",
        in_avg=False,  # not run by llm-jp-eval v1.4.1
    )
]
