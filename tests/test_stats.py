"""lm_eval_jaster.stats: bootstrap intervals and paired comparisons (calibration, determinism, corpus statistics)."""

from __future__ import annotations

import numpy as np
import pytest

from lm_eval_jaster import stats
from lm_eval_jaster.metrics import pearson, spearman
from lm_eval_jaster.stats import DatasetSamples


def _bernoulli(rng: np.random.Generator, p: float, n: int) -> list[float]:
    return [float(x) for x in rng.random(n) < p]


def _paired(rng: np.random.Generator, n: int, p_base: float, p_model: float) -> tuple[list[float], list[float]]:
    """Correlated paired 0/1 results: both runs see the same doc difficulty u."""
    u = rng.random(n)
    return [float(x) for x in u < p_base], [float(x) for x in u < p_model]


def _sts_items(rng: np.random.Generator, n: int, noise: float) -> list[tuple[str, str]]:
    gold = rng.uniform(0, 5, n).round(1)
    return [(f"{g + rng.normal(0, noise):.1f}", f"{g:.1f}") for g in gold]


# --- calibration ---------------------------------------------------------------------------------------------------

def test_paired_intervals_cover_the_true_difference():
    """200 synthetic paired experiments with known deltas: 95 % intervals cover the truth 90-99 % of the time.

    Dataset "a": 0/1 results, base p=0.5, model p=0.6 (true delta 0.1); dataset "b": continuous per-sample scores
    with true delta -0.05; category C = mean of both (true delta 0.025), AVG = C. Seeds are fixed, so the counts are
    exact numbers, not a flaky estimate.
    """
    covered = {"a": 0, "b": 0, "C": 0, "AVG": 0}
    truth = {"a": 0.1, "b": -0.05, "C": 0.025, "AVG": 0.025}
    replications = 200
    for seed in range(replications):
        rng = np.random.default_rng(seed)
        a_base, a_model = _paired(rng, 150, 0.5, 0.6)
        noise = rng.uniform(0, 1, 80)
        b_base = list(0.3 + 0.4 * noise)
        b_model = list(0.25 + 0.4 * noise + rng.normal(0, 0.1, 80))  # the same docs, shifted by -0.05 plus noise
        rows = stats.compare({"a": DatasetSamples(a_base), "b": DatasetSamples(b_base)},
                             {"a": DatasetSamples(a_model), "b": DatasetSamples(b_model)},
                             {"C": ["a", "b"]}, ["C"])
        for row in rows:
            covered[row.name] += row.ci_low <= truth[row.name] <= row.ci_high
    for name, count in covered.items():
        assert 0.90 * replications <= count <= 0.99 * replications, (name, count)


def test_p_values_under_the_null_and_under_a_real_difference():
    """Same distribution for both runs: p < 0.05 in about 5 % of 200 experiments; a clear difference: almost always."""
    null_hits = real_hits = 0
    for seed in range(200):
        rng = np.random.default_rng(10_000 + seed)
        base, model = _bernoulli(rng, 0.5, 120), _bernoulli(rng, 0.5, 120)
        [row] = stats.compare({"d": DatasetSamples(base)}, {"d": DatasetSamples(model)})
        null_hits += row.p_value < 0.05
        base, model = _paired(rng, 120, 0.4, 0.6)
        [row] = stats.compare({"d": DatasetSamples(base)}, {"d": DatasetSamples(model)})
        real_hits += row.p_value < 0.05
    assert 2 <= null_hits <= 20, null_hits
    assert real_hits >= 190, real_hits


def test_dataset_interval_coverage_of_a_known_mean():
    covered = 0
    for seed in range(200):
        rng = np.random.default_rng(20_000 + seed)
        estimate, _ = stats.dataset_interval("jamp", DatasetSamples(_bernoulli(rng, 0.3, 100)))
        covered += estimate.low <= 0.3 <= estimate.high
    assert 180 <= covered <= 198, covered


# --- properties ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(20))
def test_intervals_contain_their_point_estimates(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))  # small n: skewed replicates, especially for the correlation
    datasets = {"jamp": DatasetSamples(_bernoulli(rng, rng.random(), n)),
                "jemhopqa": DatasetSamples(list(rng.random(n) ** 3)),
                "jsts": DatasetSamples(_sts_items(rng, n, 2.0), statistic=stats.PEARSON)}
    intervals = stats.run_intervals(datasets, {"NLI": ["jamp"], "QA": ["jemhopqa"], "STS": ["jsts"]}, ["NLI", "QA"])
    for estimate in [*intervals.datasets.values(), *intervals.categories.values(), intervals.avg]:
        assert estimate.low <= estimate.value <= estimate.high
    other = {name: DatasetSamples(list(reversed(s.items)), statistic=s.statistic) for name, s in datasets.items()}
    for row in stats.compare(datasets, other, {"NLI": ["jamp"], "QA": ["jemhopqa"]}, ["NLI", "QA"]):
        assert row.ci_low <= row.delta <= row.ci_high and 0 < row.p_value <= 1


def test_point_estimates_are_the_score_table_means():
    values = [0.1, 0.7, 0.25, 1.0, 0.0]
    intervals = stats.run_intervals({"x": DatasetSamples(values), "y": DatasetSamples([1.0, 0.0])},
                                    {"X": ["x", "y"]}, ["X"])
    assert intervals.datasets["x"].value == sum(values) / len(values)  # lm-eval's mean, bit for bit
    assert intervals.categories["X"].value == (sum(values) / 5 + 0.5) / 2 == intervals.avg.value
    assert intervals.datasets["x"].n == 5 and intervals.categories["X"].n == 7


def test_deterministic_and_independent_of_order_and_of_other_datasets():
    rng = np.random.default_rng(5)
    values = list(rng.random(300))
    ids = list(range(1000, 1300))
    first = stats.run_intervals({"jamp": DatasetSamples(values, ids)})
    again = stats.run_intervals({"jamp": DatasetSamples(values, ids)})
    shuffled = rng.permutation(300)
    reordered = stats.run_intervals({"other": DatasetSamples(list(rng.random(50))),
                                     "jamp": DatasetSamples([values[i] for i in shuffled], [ids[i] for i in shuffled])})
    assert first.datasets["jamp"] == again.datasets["jamp"] == reordered.datasets["jamp"]
    without_ids = stats.run_intervals({"jamp": DatasetSamples([values[i] for i in shuffled])})  # as lm-eval lists them
    assert without_ids.datasets["jamp"].interval == first.datasets["jamp"].interval
    assert without_ids.datasets["jamp"].value == pytest.approx(first.datasets["jamp"].value, abs=1e-15)
    assert stats.seed_for("jamp") == stats.seed_for("jamp") != stats.seed_for("janli")
    np.random.seed(123)  # global state plays no part
    assert stats.run_intervals({"jamp": DatasetSamples(values, ids)}).datasets["jamp"] == first.datasets["jamp"]
    janli = stats.run_intervals({"janli": DatasetSamples(values, ids)}).datasets["janli"]
    assert janli.value == first.datasets["jamp"].value and janli.interval != first.datasets["jamp"].interval


def test_resampling_is_stratified_within_each_dataset():
    """Two constant datasets (all 1 / all 0) of different sizes: every stratified replicate is exactly 0.5; a pooled
    bootstrap would vary with the share of each dataset drawn."""
    intervals = stats.run_intervals({"ones": DatasetSamples([1.0] * 30), "zeros": DatasetSamples([0.0] * 90)},
                                    {"C": ["ones", "zeros"]}, ["C"])
    assert intervals.categories["C"].interval == [0.5, 0.5] and intervals.avg.interval == [0.5, 0.5]
    rows = stats.compare({"ones": DatasetSamples([1.0] * 30), "zeros": DatasetSamples([0.0] * 90)},
                         {"ones": DatasetSamples([0.0] * 30), "zeros": DatasetSamples([0.0] * 90)},
                         {"C": ["ones", "zeros"]}, ["C"])
    by_name = {r.name: r for r in rows}
    assert (by_name["ones"].delta, by_name["ones"].ci_low, by_name["ones"].ci_high) == (-1.0, -1.0, -1.0)
    assert (by_name["C"].delta, by_name["C"].ci_low, by_name["C"].ci_high) == (-0.5, -0.5, -0.5)
    assert by_name["zeros"].p_value == 1.0 and by_name["ones"].p_value == pytest.approx(1 / 1001)
    assert by_name["AVG"].n == 120 and by_name["AVG"].datasets == ("ones", "zeros")


def test_category_intervals_need_every_member_and_avg_every_category():
    intervals = stats.run_intervals({"a": DatasetSamples([1.0, 0.0])}, {"A": ["a"], "B": ["a", "b"]}, ["A", "B"])
    assert set(intervals.categories) == {"A"} and intervals.avg is None


# --- corpus statistics ---------------------------------------------------------------------------------------------

def test_vectorised_correlations_match_llm_jp_eval():
    rng = np.random.default_rng(3)
    items = _sts_items(rng, 60, 1.0) + [("lol", "2.0"), ("", "4.0"), ("3.5点", "3.4")]  # -2.0, -2.0, 3.5
    data = stats.PEARSON.encode(items)
    idx = rng.integers(0, len(items), size=(25, len(items)))
    for statistic, exact in ((stats.PEARSON, pearson), (stats.SPEARMAN, spearman)):
        rows = statistic.rows(data[idx])
        for row, r in zip(idx, rows):
            chosen = [items[i] for i in row]
            assert r == pytest.approx(exact([p for p, _ in chosen], [g for _, g in chosen]), abs=1e-9)
        assert statistic(items) == exact([p for p, _ in items], [g for _, g in items])
    constant = stats.PEARSON.encode([("lol", "1.0"), ("x", "3.0"), ("", "2.0")])  # every prediction -2.0
    assert stats.PEARSON.rows(constant[None]).tolist() == [0.0] == [pearson(["lol", "x", ""], ["1.0", "3.0", "2.0"])]
    assert stats.statistic_for("pearson") is stats.PEARSON and stats.statistic_for("exact_match") is None


def test_corpus_statistic_path_for_jsts():
    rng = np.random.default_rng(11)
    good, bad = _sts_items(rng, 200, 0.3), _sts_items(rng, 200, 3.0)
    bad = [(pred, gold) for (pred, _), (_, gold) in zip(bad, good)]  # same golds, noisier predictions
    base, model = DatasetSamples(bad, statistic=stats.PEARSON), DatasetSamples(good, statistic=stats.PEARSON)
    estimate, replicates = stats.dataset_interval("jsts", model)
    assert estimate.value == pearson([p for p, _ in good], [g for _, g in good])
    assert len(replicates) == stats.RESAMPLES and estimate.low < estimate.value < estimate.high
    [row] = stats.compare({"jsts": base}, {"jsts": model})
    assert row.delta == pytest.approx(row.model_value - row.baseline_value)
    assert row.model_value == estimate.value and row.delta > 0.2 and row.ci_low > 0 and row.p_value < 0.01


def test_any_callable_statistic_works_without_a_vectorised_form():
    rng = np.random.default_rng(2)
    values = list(rng.random(40))

    def median(items):
        return float(np.median(items))

    estimate, replicates = stats.dataset_interval("m", DatasetSamples(values, statistic=median), resamples=200)
    assert estimate.value == float(np.median(values)) and len(replicates) == 200
    assert estimate.low <= estimate.value <= estimate.high < 1
    [row] = stats.compare({"m": DatasetSamples(values, statistic=median)},
                          {"m": DatasetSamples([v + 0.1 for v in values], statistic=median)}, resamples=200)
    assert row.delta == pytest.approx(0.1) and row.ci_low == pytest.approx(0.1) and row.p_value < 0.05


# --- pairing -------------------------------------------------------------------------------------------------------

def test_comparison_uses_only_common_doc_ids():
    base = DatasetSamples([1.0, 0.0, 1.0, 1.0], doc_ids=[0, 1, 2, 3])
    model = DatasetSamples([0.0, 0.0, 1.0, 0.0, 1.0], doc_ids=[3, 1, 2, 7, 8])  # 3 common docs: 3, 1, 2
    [row] = stats.compare({"d": base, "only_base": base}, {"d": model})
    assert (row.name, row.n, row.baseline_value, row.model_value) == ("d", 3, 2 / 3, 1 / 3)
    assert row.delta == pytest.approx(-1 / 3)
    assert stats.compare({"d": base}, {"d": DatasetSamples([1.0], doc_ids=[99])}) == []


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="doc ids repeat"):
        DatasetSamples([1.0, 0.0], doc_ids=[1, 1])
    with pytest.raises(ValueError, match="2 items but 1 doc ids"):
        DatasetSamples([1.0, 0.0], doc_ids=[1])
    with pytest.raises(ValueError, match="resamples"):
        stats.run_intervals({}, resamples=0)
    with pytest.raises(ValueError, match="x: no samples"):
        stats.dataset_interval("x", DatasetSamples([]))


# --- glue: lm-eval sample records and the score table ------------------------------------------------------------

def test_samples_from_lm_eval_records():
    lines = [{"doc_id": 2, "filter": "llm-jp-eval", "exact_match": 1.0},
             {"doc_id": 0, "filter": "llm-jp-eval", "exact_match": 0.0},
             {"doc_id": 0, "filter": "lenient", "exact_match": 1.0},
             {"doc_id": 2, "filter": "llm-jp-eval", "exact_match": 0.0}]  # repeated doc: the first record counts
    samples = stats.samples_from_lines(lines, "exact_match")
    assert samples.ordered() == ([0, 2], [0.0, 1.0]) and samples.statistic is None
    assert stats.samples_from_lines(lines, "exact_match", "lenient").ordered() == ([0], [1.0])
    sts = stats.samples_from_lines([{"doc_id": 0, "filter": "llm-jp-eval", "pearson": ["3", "3.0"]}], "pearson")
    assert sts.items == [("3", "3.0")] and sts.statistic is stats.PEARSON
    comet = [{"doc_id": 0, "filter": "llm-jp-eval", "comet_wmt22": ["src", "pred", "gold"]}]
    assert stats.samples_from_lines(comet, "comet_wmt22") is None  # corpus-level items carry no score
    assert stats.samples_from_lines([], "exact_match") is None


def test_category_members_follow_the_score_table():
    from lm_eval_jaster.scores import compute_scores

    f = "llm-jp-eval"
    scores = compute_scores({"results": {
        "jaster_jamp": {f"exact_match,{f}": 0.5}, "jaster_janli": {f"exact_match,{f}": 0.7},
        "jaster_mawps": {f"exact_match,{f}": 0.2}, "jaster_mgsm": {f"exact_match,{f}": 0.1},  # mgsm: not in AVG
        "jaster_jsts": {f"pearson,{f}": 0.9}}})
    members = stats.category_members(scores)
    assert members == {"NLI": ["jamp", "janli"], "MR": ["mawps"], "STS": ["jsts"]}
    assert {c: sum(scores["datasets"][d]["score"] for d in m) / len(m) for c, m in members.items()} == \
        scores["categories"]
    assert stats.category_members({**scores, "category_datasets": {"NLI": ["jamp"]}}) == {"NLI": ["jamp"]}
