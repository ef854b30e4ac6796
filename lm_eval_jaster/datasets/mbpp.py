"""MBPP-ja (``llm-jp/mbpp-ja`` on Hugging Face, file ``mbpp_translation.jsonl``), CC BY 4.0. Category CG.

MBPP (Austin et al. 2021, google-research ``mbpp``, CC BY 4.0) with its task texts translated into Japanese by
LLM-jp with DeepL (field ``text_jpn``); the licence is the dataset card's ``license: cc-by-4.0`` (read). Read in
llm-jp-eval source excerpts (spec "v1.4.x additions"): the instruction (no ``` fences allowed),
``output_length = 1000``, metrics ``["code_exec", "pylint_check"]``, ``few_shots = []``. Read elsewhere: the field
``text_jpn`` and ``test_list`` (a list of ``assert`` lines) of the jsonl, whose rows are MBPP's 974 problems
(task_id 1…974). **Recollected, not read** (llm-jp-eval's ``jaster/mbpp.py`` body was not available; MBPP-ja is not
in this project's mirror, so llm-jp-eval v1.4.1's dev sha256 ``92ad569b…`` could not be checked) — the processor
reads the jsonl with pandas and, for row ``i`` in file order:

- input ``f"{text_jpn}\\n\\n### テストケース:\\n{chr(10).join(test_list)}"``, output ``str(test_list)`` (the Python
  list literal of the test strings: the gold that ``code_exec`` runs);
- rows 10–509 → test (MBPP's test split, task_id 11–510), 510–599 → dev (MBPP's validation, 511–600), 600–973 →
  train (MBPP's train, 601–974); rows 0–9 (MBPP's few-shot prompt problems) are not used. No shuffle.

``test_setup_code`` and ``challenge_test_list`` are not used (as recollected). The train split exists, but its
outputs are test lists, not code; llm-jp-eval sets ``few_shots = []`` and the task runs 0-shot by default here
(``_jaster_code_exec_yaml``); ``--num_fewshot N`` shows the first N train samples exactly as llm-jp-eval would.

Scoring (:mod:`lm_eval_jaster.code_exec`): the answer after llm-jp-eval's post-processing (cut at the first blank
line, NFKC) is run, then each test; 1 if nothing fails. llm-jp-eval v1.4.1 ran it with ``exec()`` in its own
process (recollected: ``exec(y_pred); exec(test_case)`` per test case inside the metric function, so prediction
and tests did not share one module namespace there; here they do, which can only differ for code relying on
that quirk). Needs ``--confirm_run_unsafe_code``.
"""

from __future__ import annotations

import json
from pathlib import Path

from lm_eval_jaster.datasets.base import DatasetInfo, MalformedRecordError, RawFiles, Sample, Splits
from lm_eval_jaster.datasets.code_tasks import INSTRUCTION

FILE = "mbpp_translation.jsonl"
TEST_ROWS = range(10, 510)
DEV_ROWS = range(510, 600)
TRAIN_FROM = 600



def _sample(record: dict) -> Sample:
    tests = record["test_list"]
    text = record["text_jpn"]
    if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests) or not isinstance(text, str):
        raise TypeError("text_jpn must be a string and test_list a list of strings")
    test_cases = "\n".join(tests)
    return Sample(f"{text}\n\n### テストケース:\n{test_cases}", str(tests))


def _read(path: Path) -> list[Sample]:
    samples = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                samples.append(_sample(json.loads(line)))
            except json.JSONDecodeError as e:
                raise MalformedRecordError(path, line_no, f"invalid JSON ({e.msg})") from e
            except KeyError as e:
                raise MalformedRecordError(path, line_no, f"not an MBPP-ja record (missing field {e})") from e
            except TypeError as e:
                raise MalformedRecordError(path, line_no, f"not an MBPP-ja record ({e})") from e
    return samples


def build(files: RawFiles) -> Splits:
    path = files.path(FILE)
    samples = _read(path)
    if len(samples) <= TRAIN_FROM:
        raise MalformedRecordError(path, "document", f"{len(samples)} problems; MBPP-ja has 974")
    return {"train": samples[TRAIN_FROM:],
            "dev": samples[DEV_ROWS.start:DEV_ROWS.stop],
            "test": samples[TEST_ROWS.start:TEST_ROWS.stop]}


DATASETS = [
    DatasetInfo(
        name="mbpp",
        category="CG",
        instruction=INSTRUCTION,
        output_length=1000,
        # pylint_check is computed when pylint is installed (optional dependency); code_exec is the score.
        metrics=("code_exec", "pylint_check"),
        source="mbpp",
        license="CC BY 4.0",
        homepage="https://huggingface.co/datasets/llm-jp/mbpp-ja",
        build=build,
        # llm-jp-eval v1.4.1's published dev sha256; MBPP-ja is not mirrored, so never checked against this build.
        published_dev_sha256="92ad569be57387e1103d859bfb8020a47bda24965e551bf2ae98c20847613c6d",
        answer_format="code",
        unsafe_code=True,
    ),
]
