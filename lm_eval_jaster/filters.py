"""lm-eval filters. ``LlmJpEvalFilter`` is llm-jp-eval's own post-processing; it is the scored pipeline."""

from __future__ import annotations

from lm_eval.api.filter import Filter

from lm_eval_jaster.metrics import normalize


class LlmJpEvalFilter(Filter):
    """Raw generation → text before the first "\\n\\n" → NFKC (no strip), as llm-jp-eval v1.3/v1.4 does."""

    def __init__(self, **kwargs) -> None:
        super().__init__()

    def apply(self, resps, docs):
        return [[normalize(r) for r in responses] for responses in resps]
