"""Metrics of the code-generation (CG) tasks: ``code_exec`` and ``pylint_check``, as llm-jp-eval v1.4.1 defines them.

llm-jp-eval ran the prediction, then every test case, with ``exec()`` in its own process (1 if all pass) and
``pylint_check`` (1 if pylint reports no error-class message). Here the same verdicts come from
:mod:`lm_eval_jaster.sandbox`: the code runs in a fresh sandbox per sample, never in the evaluator.
"""

from __future__ import annotations

import logging

from lm_eval_jaster.sandbox import parse_tests, pylint_check, run_tests

logger = logging.getLogger("lm_eval.jaster")

__all__ = ["parse_tests", "process_results_code_exec"]


def process_results_code_exec(doc: dict, results: list[str]) -> dict[str, float]:
    """``code_exec`` (= ``score``) and, when pylint is installed, ``pylint_check`` of a CG sample.

    ``results[0]`` is the filtered answer: llm-jp-eval's post-processing (text before the first blank line, NFKC)
    for the "llm-jp-eval" pipeline, the extracted code for "lenient". The gold is NFKC-normalised, as llm-jp-eval
    normalises every gold, then read as the list of test cases. (The answer diagnostics of the lenient pipeline are
    added by :mod:`lm_eval_jaster.scoring`.)
    """
    from lm_eval_jaster.metrics.llm_jp_eval import normalize_gold

    answer = results[0]
    code = str(answer)
    result = run_tests(code, parse_tests(normalize_gold(doc["output"])))
    logger.debug("code_exec: %s (%.2fs)", result.reason, result.duration_s)
    value = 1.0 if result.passed else 0.0
    out = {"code_exec": value, "score": value}
    lint = pylint_check(code)
    if lint is not None:
        out["pylint_check"] = 1.0 if lint else 0.0
    return out
