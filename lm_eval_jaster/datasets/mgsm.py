"""MGSM, Japanese (google-research/url-nlp ``mgsm/``, branch main), CC BY 4.0.

Not run by llm-jp-eval v1.4.1 (its processor appeared on the dev branch and in the v2 registry), so it is
reported but never counted in AVG (``in_avg=False``) and has no published dev hash.

Read in llm-jp-eval source excerpts: the pre-v2 instructions (first "質問を入力とし、回答を出力してください。…",
then the "数字のみの回答" one used here), ``output_length = 10`` of that era (v2.1: 25 and a shorter instruction),
metric ``exact_match``, "splits train/test only", and (v2.1 header) that the data come from the Hugging Face copy
``juletxara/mgsm`` (config ``ja``), whose train split is the 8 worked exemplars of ``mgsm/exemplars.py`` and whose
test split is ``mgsm/mgsm_ja.tsv`` (250 problems). The processor body was not read; **derived**:

- test = ``mgsm_ja.tsv`` in file order: input ``質問：{question}`` (as the other "質問を入力とし" datasets), output
  the answer as the Hugging Face copy's integer ``answer_number``: thousands separators dropped (4 of 250 answers,
  e.g. ``5,600`` → ``5600``), so that the exact match compares plain numbers;
- train = the 8 Japanese exemplars of ``exemplars.py`` (``MGSM_EXEMPLARS["ja"]``, keys "1"…"8"): input
  ``質問：{q}`` with the exemplar's own leading "問題：" removed, output ``EXEMPLAR_NUMBER_ANSWERS[i]``; the Python
  file is parsed with ``ast`` (never executed);
- dev: llm-jp-eval has no MGSM dev split; dev repeats the 250 test problems so that the default (dev) run
  evaluates MGSM at all. ``--metadata '{"jaster_split": "test"}'`` scores the same problems.

Licence: ``mgsm/LICENSE`` is CC BY 4.0 (the Hugging Face copy is labelled CC BY-SA 4.0). ``exemplars.py`` is not in
this project's raw-data mirror and has no pinned checksum (it is used with a warning).
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
