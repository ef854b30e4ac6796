"""lm-eval filters. ``LlmJpEvalFilter`` is llm-jp-eval's own post-processing; it is the scored pipeline.

``LenientAnswerFilter`` is the second, diagnostic view (filter name "lenient"): answers extracted from free-form
output by :mod:`lm_eval_jaster.lenient`, scored with the same metrics, reported beside llm-jp-eval's scores.
"""

from __future__ import annotations

from lm_eval.api.filter import Filter

from lm_eval_jaster.metrics import LenientAnswer, normalize


class LlmJpEvalFilter(Filter):
    """Raw generation → text before the first "\\n\\n" → NFKC (no strip), as llm-jp-eval v1.3/v1.4 does."""

    def __init__(self, **kwargs) -> None:
        super().__init__()

    def apply(self, resps, docs):
        return [[normalize(r) for r in responses] for responses in resps]


class LenientAnswerFilter(Filter):
    """Lenient extraction for one dataset's answer format; each answer also carries the strict reading."""

    def __init__(self, answer_format: str = "text", labels: list[str] | None = None, **kwargs) -> None:
        super().__init__()
        self.answer_format = answer_format
        self.labels = tuple(labels or ())
        if not all(isinstance(label, str) for label in self.labels):
            raise TypeError(f"LenientAnswerFilter labels must be strings, got {self.labels!r} "
                            f"(quote yes/no in YAML: unquoted they are booleans)")

    def apply(self, resps, docs):
        from lm_eval_jaster.lenient import extract

        return [[LenientAnswer(extract(r, self.answer_format, self.labels, doc), normalize(r)) for r in responses]
                for responses, doc in zip(resps, docs)]
