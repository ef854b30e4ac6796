"""llm-jp-eval (v1.3.0 / v1.4.1) post-processing and metrics, bit-exact.

Pure functions take ``(pred, gold)`` / ``(preds, golds)``. Predictions are expected to be post-processed
with :func:`normalize` (cut at the first blank line, NFKC) and golds with :func:`normalize_gold` (NFKC).
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from typing import Any, Callable, Sequence

from rapidfuzz.distance import Indel

__all__ = [
    "normalize",
    "normalize_gold",
    "exact_match",
    "char_f1",
    "set_f1",
    "parse_float",
    "pearson",
    "spearman",
    "score_exact_match",
    "score_char_f1",
    "score_set_f1",
    "score_correlation",
    "pearson_aggregation",
    "spearman_aggregation",
]


# ---------------------------------------------------------------------------
# Post-processing
# ---------------------------------------------------------------------------


def normalize(text: str) -> str:
    """llm-jp-eval post-processing of a raw generation: text before the first blank line, then NFKC (no strip)."""
    return unicodedata.normalize("NFKC", text.split("\n\n")[0])


def normalize_gold(text: str) -> str:
    """llm-jp-eval normalization of a gold answer: NFKC only."""
    return unicodedata.normalize("NFKC", text)


# ---------------------------------------------------------------------------
# Per-sample metrics
# ---------------------------------------------------------------------------


def exact_match(pred: str, gold: str) -> float:
    """1.0 if the (already normalized) strings are identical, else 0.0."""
    return 1.0 if pred == gold else 0.0


# fuzzywuzzy 0.18.0 utils.full_process(force_ascii=True)
_LATIN1_TABLE = dict.fromkeys(range(128, 256))
_NON_WORD = re.compile(r"(?ui)\W")


def _full_process(s: str) -> str:
    s = s.translate(_LATIN1_TABLE)
    return _NON_WORD.sub(" ", s).lower().strip()


def _process_and_sort(s: str) -> str:
    return " ".join(sorted(_full_process(s).split())).strip()


def _ratio(x: str, y: str) -> int:
    # fuzzywuzzy fuzz.ratio with python-Levenshtein: equality checked before emptiness.
    if x == y:
        return 100
    if not x or not y:
        return 0
    return int(round(100 * Indel.normalized_similarity(x, y)))


def char_f1(pred: str, gold: str) -> float:
    """fuzzywuzzy 0.18.0 ``fuzz.token_sort_ratio(pred, gold) / 100`` (python-Levenshtein backend)."""
    return _ratio(_process_and_sort(pred), _process_and_sort(gold)) / 100


def set_f1(pred: str, gold: str) -> float:
    """F1 between the line sets of pred (de-duplicated) and gold (duplicates kept), lines stripped."""
    pred_items = list({x.strip() for x in pred.split("\n")})
    gold_items = [x.strip() for x in gold.split("\n")]
    hits = sum(p in gold_items for p in pred_items)
    precision = hits / len(pred_items)
    recall = hits / len(gold_items)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------------------
# Corpus-level correlations
# ---------------------------------------------------------------------------


def parse_float(s: str) -> float:
    """llm-jp-eval ``parse_float``: keep only ``[0-9.]`` and parse; -2.0 if that fails."""
    try:
        return float(re.sub(r"[^0-9.]", "", str(s)))
    except ValueError:
        return -2.0


def _correlation(fn: Callable[..., Any], preds: Sequence[str], golds: Sequence[str]) -> float:
    if len(preds) != len(golds):
        raise ValueError(f"preds and golds differ in length: {len(preds)} != {len(golds)}")
    if len(golds) < 2:
        return 0.0
    y_true = list(map(float, golds))
    y_pred = list(map(parse_float, preds))
    with warnings.catch_warnings():
        # ConstantInputWarning, overflow RuntimeWarnings: the result is NaN and mapped to 0.0 below
        warnings.simplefilter("ignore")
        value = float(fn(y_true, y_pred)[0])
    return 0.0 if math.isnan(value) else value


def pearson(preds: Sequence[str], golds: Sequence[str]) -> float:
    """Pearson r of ``float(gold)`` vs ``parse_float(pred)``; NaN or fewer than 2 items give 0.0."""
    from scipy.stats import pearsonr

    return _correlation(pearsonr, preds, golds)


def spearman(preds: Sequence[str], golds: Sequence[str]) -> float:
    """Spearman rho of ``float(gold)`` vs ``parse_float(pred)``; NaN or fewer than 2 items give 0.0."""
    from scipy.stats import spearmanr

    return _correlation(spearmanr, preds, golds)


# ---------------------------------------------------------------------------
# Per-sample values for lm-eval (answers already post-processed by a filter pipeline)
# ---------------------------------------------------------------------------


def score_exact_match(answer: str, doc: dict) -> dict[str, float]:
    v = exact_match(str(answer), normalize_gold(doc["output"]))
    return {"exact_match": v, "score": v}


def score_char_f1(answer: str, doc: dict) -> dict[str, float]:
    v = char_f1(str(answer), normalize_gold(doc["output"]))
    return {"char_f1": v, "score": v}


def score_set_f1(answer: str, doc: dict) -> dict[str, float]:
    v = set_f1(str(answer), normalize_gold(doc["output"]))
    return {"set_f1": v, "score": v}


def score_correlation(answer: str, doc: dict) -> dict[str, tuple[str, str]]:
    """A JSON-safe ``(pred, gold)`` string pair per sample; pearson/spearman are computed over the corpus."""
    item = (str(answer), normalize_gold(doc["output"]))
    return {"pearson": item, "spearman": item, "score": item}


def pearson_aggregation(items: Sequence[Sequence[str]]) -> float:
    """Corpus-level Pearson over ``(pred, gold)`` items."""
    return pearson([p for p, _ in items], [g for _, g in items])


def spearman_aggregation(items: Sequence[Sequence[str]]) -> float:
    """Corpus-level Spearman over ``(pred, gold)`` items."""
    return spearman([p for p, _ in items], [g for _, g in items])
