"""Metrics of the Jaster tasks.

- :mod:`.llm_jp_eval`: llm-jp-eval's post-processing and metrics, bit-exact (the public API below);
- :mod:`.translation`: BLEU and ROUGE of the MT and SUM tasks; :mod:`.neural`: COMET and BERTScore (optional);
- :mod:`.code`: the code-generation tasks (model-written code run in :mod:`lm_eval_jaster.sandbox`).

Which metrics score a sample is decided in :mod:`lm_eval_jaster.scoring`.
"""

from __future__ import annotations

from lm_eval_jaster.metrics.llm_jp_eval import (
    char_f1,
    exact_match,
    normalize,
    normalize_gold,
    parse_float,
    pearson,
    pearson_aggregation,
    score_char_f1,
    score_correlation,
    score_exact_match,
    score_set_f1,
    set_f1,
    spearman,
    spearman_aggregation,
)

__all__ = [
    "normalize", "normalize_gold", "exact_match", "char_f1", "set_f1", "parse_float", "pearson", "spearman",
    "pearson_aggregation", "spearman_aggregation", "score_exact_match", "score_char_f1", "score_set_f1",
    "score_correlation",
]
