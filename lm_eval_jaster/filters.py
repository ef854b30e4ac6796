"""The two filter pipelines of every Jaster task, and what the lenient one hands to the metrics.

- ``llm-jp-eval`` (:class:`LlmJpEvalFilter`): llm-jp-eval's own post-processing; the reported score.
- ``lenient`` (:class:`LenientAnswerFilter`): the answer extracted from free-form output (:mod:`lm_eval_jaster.lenient`)
  in the dataset's gold format, as a :class:`LenientAnswer` that remembers the strict reading; it yields the lenient
  score and the answer diagnostics of :func:`format_metrics`, reported beside the score, never instead of it.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from lm_eval.api.filter import Filter

from lm_eval_jaster.datasets.base import DatasetInfo
from lm_eval_jaster.metrics.llm_jp_eval import normalize


class LenientAnswer(str):
    """A leniently extracted answer that remembers llm-jp-eval's strict reading of the same generation."""

    strict: str

    def __new__(cls, lenient: str, strict: str) -> "LenientAnswer":
        obj = super().__new__(cls, lenient)
        obj.strict = strict
        return obj


def dataset_of(doc: Mapping[str, Any]) -> DatasetInfo:
    """The Jaster dataset a doc belongs to (every doc carries ``jaster_dataset``)."""
    from lm_eval_jaster.registry import get_dataset

    try:
        return get_dataset(doc["jaster_dataset"])
    except (KeyError, TypeError):
        raise ValueError(f"not a Jaster doc (no jaster_dataset field): {str(doc)[:120]}") from None


class LlmJpEvalFilter(Filter):
    """Raw generation → text before the first "\\n\\n" → NFKC (no strip), as llm-jp-eval v1.3/v1.4 does."""

    def __init__(self, **kwargs) -> None:
        super().__init__()

    def apply(self, resps, docs):
        return [[normalize(r) for r in responses] for responses in resps]


class LenientAnswerFilter(Filter):
    """The answer in the gold format of the doc's dataset (``DatasetInfo.answer_format``/``labels``), remembering
    the strict reading."""

    def __init__(self, **kwargs) -> None:
        super().__init__()

    def apply(self, resps, docs):
        from lm_eval_jaster.lenient import extract

        out = []
        for responses, doc in zip(resps, docs):
            info = dataset_of(doc)
            out.append([LenientAnswer(extract(r, info.answer_format, info.labels, doc), normalize(r))
                        for r in responses])
        return out


def _best(metric: str) -> float:
    return 100.0 if metric.startswith("bleu") else 1.0


def format_metrics(info: DatasetInfo, doc: Mapping[str, Any], answer: LenientAnswer, lenient_values: Mapping[str, Any],
                   score: Callable[[str], Mapping[str, Any]]) -> dict[str, float]:
    """Diagnostics of one answer of the lenient pipeline:

    - ``format_adherence``: 1.0 when the strict answer (the text llm-jp-eval scores) is well-formed for the
      dataset (:func:`lm_eval_jaster.wellformed.is_well_formed`);
    - ``lenient_recovered``: 1.0 when the key metric is below its best under strict scoring and at its best under
      lenient scoring (wrong as written, right once extracted); per-sample key metrics only (not JSTS, MT);
    - ``kanji_left`` (reading datasets): 1.0 when the lenient answer still holds kanji.

    ``score(text)`` scores another reading of the same sample (the strict one) with the dataset's metrics.
    """
    from lm_eval_jaster.wellformed import is_well_formed

    out = {"format_adherence": 1.0 if is_well_formed(info, answer.strict, doc) else 0.0}
    key = info.key_metric
    lenient_value = lenient_values.get(key)
    if isinstance(lenient_value, float):
        strict_value = score(answer.strict).get(key)
        if isinstance(strict_value, float):
            best = _best(key)
            out["lenient_recovered"] = 1.0 if strict_value < best <= lenient_value else 0.0
    if info.answer_format == "reading":
        from lm_eval_jaster.kana import has_kanji

        out["kanji_left"] = 1.0 if has_kanji(str(answer)) else 0.0
    return out
