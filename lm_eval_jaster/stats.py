"""Bootstrap intervals of Jaster scores and paired comparisons of two runs.

95 % percentile-bootstrap intervals of dataset scores (B = 1000 resamples; corpus metrics such as JSTS's correlations
and COMET recomputed on each), of category means and AVG (resampled within each dataset); paired comparisons of two
runs on the samples both scored (paired bootstrap interval, sign-flip permutation p-value). Random numbers come from
numpy's PCG64 seeded with the CRC-32 of the dataset name, never from global state, so every number is reproducible.
The method in full: docs/metrics.md#confidence-intervals-and-paired-comparisons.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

import numpy as np

RESAMPLES = 1000
CONFIDENCE = 0.95
# Resampled values held at once (rows × samples), so a large dataset does not allocate B × n in one go.
_CHUNK_ELEMENTS = 2_000_000
_BOOTSTRAP, _SIGN_FLIP = 1, 2  # purposes in the seed


class Statistic(Protocol):
    """A corpus statistic: the dataset's score from its list of per-sample items."""

    def __call__(self, items: Sequence[Any]) -> float: ...


@dataclass(frozen=True)
class VectorStatistic:
    """A corpus statistic with a vectorised form for the resamples.

    ``exact(items)`` gives the point estimate (the very function the score uses); ``encode(items)`` turns the items
    into an ``(n, k)`` float array and ``rows(array)`` computes the statistic of every row of a ``(B, n, k)`` array.
    """

    name: str
    exact: Callable[[Sequence[Any]], float]
    encode: Callable[[Sequence[Any]], np.ndarray]
    rows: Callable[[np.ndarray], np.ndarray]

    def __call__(self, items: Sequence[Any]) -> float:
        return self.exact(items)


def _encode_pred_gold(items: Sequence[Any]) -> np.ndarray:
    """``(pred, gold)`` string pairs → ``[[parse_float(pred), float(gold)], ...]`` as llm-jp-eval reads them."""
    from lm_eval_jaster.metrics import parse_float

    return np.array([[parse_float(pred), float(gold)] for pred, gold in items], dtype=float).reshape(-1, 2)


def _pearson_rows(data: np.ndarray) -> np.ndarray:
    """Pearson r of gold (column 1) vs prediction (column 0) per row; 0.0 where undefined, as llm-jp-eval."""
    if data.shape[1] < 2:
        return np.zeros(data.shape[0])
    with np.errstate(all="ignore"):
        centred = data - data.mean(axis=1, keepdims=True)
        x, y = centred[..., 1], centred[..., 0]
        r = (x * y).sum(axis=1) / np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
    return np.where(np.isfinite(r), np.clip(r, -1.0, 1.0), 0.0)


def _spearman_rows(data: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    if data.shape[1] < 2:
        return np.zeros(data.shape[0])
    return _pearson_rows(rankdata(data, axis=1))  # average ranks of ties, as scipy.stats.spearmanr


def _pearson_items(items: Sequence[Any]) -> float:
    from lm_eval_jaster.metrics import pearson_aggregation

    return pearson_aggregation(items)


def _spearman_items(items: Sequence[Any]) -> float:
    from lm_eval_jaster.metrics import spearman_aggregation

    return spearman_aggregation(items)


PEARSON = VectorStatistic("pearson", _pearson_items, _encode_pred_gold, _pearson_rows)
SPEARMAN = VectorStatistic("spearman", _spearman_items, _encode_pred_gold, _spearman_rows)
CORPUS_STATISTICS: dict[str, VectorStatistic] = {s.name: s for s in (PEARSON, SPEARMAN)}


def statistic_for(metric: str) -> VectorStatistic | None:
    """The corpus statistic of a metric whose per-sample values are ``(pred, gold)`` items; None for a mean."""
    return CORPUS_STATISTICS.get(metric)


# --- inputs and results ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DatasetSamples:
    """One dataset's per-sample key-metric values of one run.

    ``items``: floats whose mean is the score (the default, vectorised), or the items of ``statistic`` (e.g. JSTS's
    ``(pred, gold)`` pairs with :data:`PEARSON`). ``doc_ids``: lm-eval's doc ids, used to pair two runs and to put the
    samples in a fixed order (default ``0..n-1``).
    """

    items: Sequence[Any]
    doc_ids: Sequence[int] | None = None
    statistic: Statistic | None = None

    def __post_init__(self) -> None:
        if self.doc_ids is not None:
            if len(self.doc_ids) != len(self.items):
                raise ValueError(f"{len(self.items)} items but {len(self.doc_ids)} doc ids")
            if len(set(self.doc_ids)) != len(self.doc_ids):
                raise ValueError("doc ids repeat: each sample must have its own doc id")

    def ordered(self) -> tuple[list[int], list[Any]]:
        """(doc ids, items) sorted by doc id."""
        ids = list(range(len(self.items))) if self.doc_ids is None else [int(i) for i in self.doc_ids]
        order = sorted(range(len(ids)), key=ids.__getitem__)
        return [ids[i] for i in order], [self.items[i] for i in order]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval (``low ≤ value ≤ high``) and the number of samples behind it."""

    value: float
    low: float
    high: float
    n: int

    @property
    def interval(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True)
class Intervals:
    """:func:`run_intervals`' result: estimates per dataset, per category and for AVG (None if not computable)."""

    datasets: dict[str, Estimate]
    categories: dict[str, Estimate]
    avg: Estimate | None
    resamples: int = RESAMPLES
    confidence: float = CONFIDENCE


@dataclass(frozen=True)
class ComparisonRow:
    """One line of a paired comparison: ``delta = model − baseline`` on the ``n`` samples both runs scored.

    ``scope``: "dataset", "category" or "avg"; ``name``: the dataset, the category or "AVG". ``baseline_value`` and
    ``model_value``: the two runs' scores on those samples (for categories and AVG: the means over the compared
    datasets). ``datasets``: the datasets behind the row.
    """

    scope: str
    name: str
    n: int
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    baseline_value: float
    model_value: float
    datasets: tuple[str, ...] = field(default=())


# --- the resampling ------------------------------------------------------------------------------------------------

def seed_for(name: str, purpose: int = _BOOTSTRAP) -> list[int]:
    """The seed of a dataset's random numbers: CRC-32 of its name, and the purpose."""
    return [zlib.crc32(name.encode("utf-8")), purpose]


def _chunks(resamples: int, n: int) -> Iterable[int]:
    rows = max(1, _CHUNK_ELEMENTS // max(n, 1))
    for start in range(0, resamples, rows):
        yield min(rows, resamples - start)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)  # as lm-eval's "mean" aggregation and scores.py, not numpy's pairwise sum


def _numeric(items: Sequence[Any], statistic: Statistic | None) -> np.ndarray | None:
    """The items as an ``(n, k)`` array for the vectorised path, or None when the statistic has none."""
    if statistic is None:
        return np.asarray(items, dtype=float).reshape(-1, 1)
    if isinstance(statistic, VectorStatistic):
        return statistic.encode(items)
    return None


def _rows(statistic: Statistic | None, data: np.ndarray) -> np.ndarray:
    if statistic is None:
        return data[..., 0].mean(axis=1)
    assert isinstance(statistic, VectorStatistic)
    return statistic.rows(data)


def _point(items: Sequence[Any], statistic: Statistic | None) -> float:
    return _mean([float(v) for v in items]) if statistic is None else float(statistic(items))


def _bootstrap(name: str, items: Sequence[Any], statistic: Statistic | None, resamples: int) -> np.ndarray:
    """B replicates of the statistic over resamples (with replacement) of the items."""
    n = len(items)
    rng = np.random.default_rng(seed_for(name, _BOOTSTRAP))
    data = _numeric(items, statistic)
    out = []
    for rows in _chunks(resamples, n):
        idx = rng.integers(0, n, size=(rows, n), dtype=np.int32)
        if data is not None:
            out.append(_rows(statistic, data[idx]))
        else:
            out.append(np.array([float(statistic([items[i] for i in row])) for row in idx]))  # type: ignore[misc]
    return np.concatenate(out)


def _paired_bootstrap(name: str, base: Sequence[Any], other: Sequence[Any], statistic: Statistic | None,
                      resamples: int) -> np.ndarray:
    """B replicates of statistic(other) − statistic(base), both resampled with the same doc ids."""
    n = len(base)
    rng = np.random.default_rng(seed_for(name, _BOOTSTRAP))
    a, b = _numeric(base, statistic), _numeric(other, statistic)
    out = []
    for rows in _chunks(resamples, n):
        idx = rng.integers(0, n, size=(rows, n), dtype=np.int32)
        if statistic is None:
            diff = b[:, 0] - a[:, 0]
            out.append(diff[idx].mean(axis=1))
        elif a is not None:
            out.append(_rows(statistic, b[idx]) - _rows(statistic, a[idx]))
        else:
            out.append(np.array([float(statistic([other[i] for i in row])) - float(statistic([base[i] for i in row]))
                                 for row in idx]))
    return np.concatenate(out)


def _sign_flips(name: str, base: Sequence[Any], other: Sequence[Any], statistic: Statistic | None,
                resamples: int) -> np.ndarray:
    """B deltas under the null hypothesis: each doc's two results swapped with probability 1/2."""
    n = len(base)
    rng = np.random.default_rng(seed_for(name, _SIGN_FLIP))
    a, b = _numeric(base, statistic), _numeric(other, statistic)
    out = []
    for rows in _chunks(resamples, n):
        swap = rng.integers(0, 2, size=(rows, n), dtype=np.int8).astype(bool)
        if statistic is None:
            diff = b[:, 0] - a[:, 0]
            out.append(np.where(swap, -diff, diff).mean(axis=1))
        elif a is not None:
            swapped = swap[..., None]
            out.append(_rows(statistic, np.where(swapped, a, b)) - _rows(statistic, np.where(swapped, b, a)))
        else:
            deltas = []
            for row in swap:
                new_b = [base[i] if s else other[i] for i, s in enumerate(row)]
                new_a = [other[i] if s else base[i] for i, s in enumerate(row)]
                deltas.append(float(statistic(new_b)) - float(statistic(new_a)))
            out.append(np.array(deltas))
    return np.concatenate(out)


def _interval(value: float, replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of the replicates, widened to hold ``value``."""
    alpha = (1.0 - confidence) / 2
    low, high = np.quantile(replicates, [alpha, 1.0 - alpha])
    return min(float(low), value), max(float(high), value)


def _p_value(observed: float, null: np.ndarray) -> float:
    """Two-sided permutation p-value with the +1 correction; ties (within rounding) count as extreme."""
    tolerance = 1e-12 * max(1.0, abs(observed))
    extreme = int(np.count_nonzero(np.abs(null) >= abs(observed) - tolerance))
    return (1 + extreme) / (1 + len(null))


def _check(resamples: int, confidence: float) -> None:
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")


# --- public API ----------------------------------------------------------------------------------------------------

def _canonical_key(item: Any) -> Any:
    if isinstance(item, (list, tuple)):
        return tuple(str(x) for x in item)
    return float(item) if isinstance(item, (int, float)) else repr(item)


def dataset_interval(name: str, samples: DatasetSamples, resamples: int = RESAMPLES,
                     confidence: float = CONFIDENCE) -> tuple[Estimate, np.ndarray]:
    """One dataset's estimate and its bootstrap replicates (``name`` seeds the random numbers).

    The resampling runs over the items in sorted order, so the interval depends only on the multiset of items: the
    same with or without doc ids, in whatever order lm-eval (or a samples file) lists them.
    """
    _check(resamples, confidence)
    _, items = samples.ordered()
    if not items:
        raise ValueError(f"{name}: no samples")
    value = _point(items, samples.statistic)
    replicates = _bootstrap(name, sorted(items, key=_canonical_key), samples.statistic, resamples)
    low, high = _interval(value, replicates, confidence)
    return Estimate(value, low, high, len(items)), replicates


def run_intervals(datasets: Mapping[str, DatasetSamples], categories: Mapping[str, Sequence[str]] | None = None,
                  avg_categories: Sequence[str] = (), resamples: int = RESAMPLES,
                  confidence: float = CONFIDENCE) -> Intervals:
    """Intervals of one run's dataset scores, category means and AVG.

    ``datasets``: dataset name → its samples (datasets without samples are left out). ``categories``: category →
    the datasets its mean averages (as the score table counts them); a category with a dataset that has no samples
    gets no interval. ``avg_categories``: the categories AVG averages; AVG gets no interval unless all of them have
    one. Point estimates are those of the score table: the mean (or statistic) per dataset, unweighted means above.
    """
    _check(resamples, confidence)
    estimates: dict[str, Estimate] = {}
    replicates: dict[str, np.ndarray] = {}
    for name, samples in datasets.items():
        if len(samples.items):
            estimates[name], replicates[name] = dataset_interval(name, samples, resamples, confidence)
    cat_estimates: dict[str, Estimate] = {}
    cat_replicates: dict[str, np.ndarray] = {}
    for category, members in (categories or {}).items():
        if not members or any(m not in estimates for m in members):
            continue
        value = _mean([estimates[m].value for m in members])
        cat_replicates[category] = np.mean([replicates[m] for m in members], axis=0)
        low, high = _interval(value, cat_replicates[category], confidence)
        cat_estimates[category] = Estimate(value, low, high, sum(estimates[m].n for m in members))
    avg = None
    if avg_categories and all(c in cat_estimates for c in avg_categories):
        value = _mean([cat_estimates[c].value for c in avg_categories])
        low, high = _interval(value, np.mean([cat_replicates[c] for c in avg_categories], axis=0), confidence)
        avg = Estimate(value, low, high, sum(cat_estimates[c].n for c in avg_categories))
    return Intervals(estimates, cat_estimates, avg, resamples, confidence)


@dataclass
class _Paired:
    n: int
    delta: float
    base: float
    other: float
    bootstrap: np.ndarray
    null: np.ndarray


def _pair(name: str, base: DatasetSamples, other: DatasetSamples, resamples: int) -> _Paired | None:
    base_ids, base_items = base.ordered()
    other_by_id = dict(zip(*other.ordered()))
    kept = [(i, item) for i, item in zip(base_ids, base_items) if i in other_by_id]
    if not kept:
        return None
    statistic = base.statistic if base.statistic is not None else other.statistic
    a = [item for _, item in kept]
    b = [other_by_id[i] for i, _ in kept]
    base_value, other_value = _point(a, statistic), _point(b, statistic)
    return _Paired(len(kept), other_value - base_value, base_value, other_value,
                   _paired_bootstrap(name, a, b, statistic, resamples), _sign_flips(name, a, b, statistic, resamples))


def compare(base: Mapping[str, DatasetSamples], other: Mapping[str, DatasetSamples],
            categories: Mapping[str, Sequence[str]] | None = None, avg_categories: Sequence[str] = (),
            resamples: int = RESAMPLES, confidence: float = CONFIDENCE) -> list[ComparisonRow]:
    """Paired comparison of ``other`` (the model) with ``base`` (the baseline) on the samples both scored.

    One row per dataset both runs have with at least one common doc id (in ``base``'s order), then one per category
    of ``categories`` with at least one compared dataset (the mean of their deltas), then "AVG" over the categories
    of ``avg_categories`` that got a row. Intervals by paired bootstrap, p-values by a two-sided paired sign-flip
    permutation test; for categories and AVG both resample within each dataset jointly for the two runs.
    """
    _check(resamples, confidence)
    pairs: dict[str, _Paired] = {}
    for name in base:
        if name in other:
            paired = _pair(name, base[name], other[name], resamples)
            if paired is not None:
                pairs[name] = paired
    rows = [ComparisonRow("dataset", name, p.n, p.delta, *_interval(p.delta, p.bootstrap, confidence),
                          _p_value(p.delta, p.null), p.base, p.other, (name,)) for name, p in pairs.items()]
    category_rows: dict[str, ComparisonRow] = {}
    boot: dict[str, np.ndarray] = {}
    null: dict[str, np.ndarray] = {}
    for category, members in (categories or {}).items():
        compared = [m for m in members if m in pairs]
        if not compared:
            continue
        delta = _mean([pairs[m].delta for m in compared])
        boot[category] = np.mean([pairs[m].bootstrap for m in compared], axis=0)
        null[category] = np.mean([pairs[m].null for m in compared], axis=0)
        category_rows[category] = ComparisonRow(
            "category", category, sum(pairs[m].n for m in compared), delta,
            *_interval(delta, boot[category], confidence), _p_value(delta, null[category]),
            _mean([pairs[m].base for m in compared]), _mean([pairs[m].other for m in compared]), tuple(compared))
    rows += category_rows.values()
    averaged = [c for c in avg_categories if c in category_rows]
    if averaged:
        delta = _mean([category_rows[c].delta for c in averaged])
        rows.append(ComparisonRow(
            "avg", "AVG", sum(category_rows[c].n for c in averaged), delta,
            *_interval(delta, np.mean([boot[c] for c in averaged], axis=0), confidence),
            _p_value(delta, np.mean([null[c] for c in averaged], axis=0)),
            _mean([category_rows[c].baseline_value for c in averaged]),
            _mean([category_rows[c].model_value for c in averaged]),
            tuple(d for c in averaged for d in category_rows[c].datasets)))
    return rows


def is_finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- glue for lm-eval output and the score table ----------------------------------------------------------------------

STRICT_FILTER = "llm-jp-eval"


def samples_from_lines(lines: Iterable[Mapping[str, Any]], key_metric: str,
                       filter_name: str = STRICT_FILTER) -> DatasetSamples | None:
    """One dataset's :class:`DatasetSamples` from lm-eval sample records (``samples_<task>_<date>.jsonl`` lines, or
    the in-memory ``samples[task]`` dicts lm-eval logs with ``--log_samples``): the ``key_metric`` value of each
    ``filter_name`` record, by doc id. None when a record lacks a per-sample value (a corpus-level metric such as
    COMET's, whose items carry no score) or no record has that filter. A doc id seen twice keeps its first record.
    """
    statistic = statistic_for(key_metric)
    values: dict[int, Any] = {}
    for line in lines:
        if line.get("filter", filter_name) != filter_name or line.get("doc_id") in values:
            continue
        value = line.get(key_metric)
        if statistic is None and is_finite(value):
            values[line["doc_id"]] = float(value)
        elif statistic is not None and isinstance(value, (list, tuple)) and len(value) == 2:
            values[line["doc_id"]] = (value[0], value[1])
        else:
            return None
    if not values:
        return None
    return DatasetSamples(list(values.values()), list(values), statistic)


def category_members(scores: Mapping[str, Any]) -> dict[str, list[str]]:
    """Category → the datasets its mean averages, for :func:`run_intervals` and :func:`compare`, from a
    :func:`lm_eval_jaster.scores.compute_scores` table (its ``category_datasets`` when it records them, else the same
    rule: datasets with a score, counted in AVG unless the whole category is outside AVG)."""
    from lm_eval_jaster.registry import CATEGORIES

    recorded = scores.get("category_datasets")
    if isinstance(recorded, Mapping):
        return {c: list(recorded[c]) for c in scores["categories"] if c in recorded}
    members: dict[str, list[str]] = {}
    for name, row in scores["datasets"].items():
        category = row["category"]
        if row.get("score") is not None and (row.get("in_avg", True) or not CATEGORIES[category].in_avg):
            members.setdefault(category, []).append(name)
    return {c: members[c] for c in scores["categories"] if c in members}
