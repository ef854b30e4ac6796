"""Scoring one answer of a Jaster sample: the metrics of the doc's dataset, and on the lenient pipeline the answer
diagnostics of :func:`lm_eval_jaster.filters.format_metrics`. :func:`process_results` is the lm-eval
``process_results`` of every Jaster task (``_jaster_template_yaml``; :class:`lm_eval_jaster.task.JasterTask` passes
the run's metric options).
"""

from __future__ import annotations

from typing import Any, Mapping

from lm_eval_jaster.filters import LenientAnswer, dataset_of, format_metrics
from lm_eval_jaster.metrics import (normalize_gold, score_char_f1, score_correlation, score_exact_match,
                                    score_set_f1)
from lm_eval_jaster.metrics import neural, translation

_PER_SAMPLE = {"exact_match": score_exact_match, "char_f1": score_char_f1, "set_f1": score_set_f1,
               "pearson": score_correlation}


def target_language(info) -> str:
    """"ja" or "en": the language an MT dataset translates into."""
    return "ja" if "bleu_ja" in info.metrics else "en"


def score_answer(info, doc: Mapping[str, Any], answer: str, options=None) -> dict[str, Any]:
    """Every metric value of one (filtered) answer of a sample of dataset ``info``."""
    key = info.key_metric
    if key in _PER_SAMPLE:
        return _PER_SAMPLE[key](answer, doc)
    if key == "code_exec":
        from lm_eval_jaster.metrics.code import process_results_code_exec  # the sandbox: only for code tasks

        return process_results_code_exec(doc, [str(answer)])
    options = options or neural._default_options()
    if key == "comet_wmt22":
        lang = target_language(info)
        values = translation.score_translation(answer, doc, lang)
        if neural.comet_in_use(options):
            values["comet_wmt22"] = values["score"] = [doc["input"], str(answer), normalize_gold(doc["output"])]
    elif key == "rouge2":
        lang = "ja"
        values = translation.score_summarization(answer, doc)
    else:
        raise ValueError(f"{info.name}: no metrics for key metric {key!r}")
    if neural.bert_score_unavailable_reason(options) is None and any(m.startswith("bert_score") for m in info.metrics):
        values[f"bert_score_{lang}_f1"] = [lang, str(answer), normalize_gold(doc["output"])]
    return values


def process_results(doc: dict, results: list[str], options=None) -> dict[str, Any]:
    """lm-eval ``process_results`` of every Jaster task (``results[0]`` has passed one filter pipeline)."""
    info = dataset_of(doc)
    answer = results[0]
    values = score_answer(info, doc, answer, options)
    if isinstance(answer, LenientAnswer):
        values.update(format_metrics(info, doc, answer, values, lambda text: score_answer(info, doc, text, options)))
    return values
