"""Paired comparisons in the report (lm_eval_jaster.report.compare) on hand-written lm-eval output files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lm_eval_jaster import report
from lm_eval_jaster.registry import all_datasets
from lm_eval_jaster.report.compare import compare_runs, comparison_markdown, write_comparison_csv
from lm_eval_jaster.scores import rounded

DATE = "2025-01-01T00-00-00.000000"


def _write_run(root: Path, model: str, values: dict[str, list], limit: int | None = 100, shots: int = 4,
               hashes: dict[str, list[str]] | None = None, samples: bool = True) -> Path:
    """An lm-eval output folder: results_<date>.json and samples_<task>_<date>.jsonl of per-sample key metrics.

    ``values``: dataset → per-sample key-metric values by doc id (floats, or ``[pred, gold]`` for jsts, or
    ``[src, pred, gold]`` items for the MT datasets, whose key metric is corpus-level)."""
    folder = root / model
    folder.mkdir(parents=True)
    results = {"results": {}, "configs": {}, "versions": {}, "n-shot": {}, "n-samples": {},
               "config": {"model": "hf", "model_args": f"pretrained=/models/{model}", "limit": limit},
               "lm_eval_version": "0.4.13"}
    for name, per_sample in values.items():
        info = all_datasets()[name]
        task, key = info.task_name, info.key_metric
        if info.key_metric in ("pearson", "spearman"):
            from lm_eval_jaster.metrics import pearson

            score = pearson([p for p, _ in per_sample], [g for _, g in per_sample])
        elif all(isinstance(v, float) for v in per_sample):
            score = sum(per_sample) / len(per_sample)
        else:
            score = 0.5  # corpus-level (COMET): the score is not a mean of the items
        results["results"][task] = {f"{key},llm-jp-eval": score}
        results["configs"][task] = {"task": task, "metadata": {"version": 1.0}}
        results["versions"][task] = 1.0
        results["n-shot"][task] = shots
        results["n-samples"][task] = {"original": 1000, "effective": len(per_sample)}
        if samples:
            with (folder / f"samples_{task}_{DATE}.jsonl").open("w", encoding="utf-8") as f:
                for doc_id, value in enumerate(per_sample):
                    doc_hash = hashes[name][doc_id] if hashes and name in hashes else f"{name}-{doc_id}"
                    line = {"doc_id": doc_id, "filter": "llm-jp-eval", "resps": [["a"]], "filtered_resps": ["a"],
                            "target": "t", key: value, "doc_hash": doc_hash}
                    f.write(json.dumps(line, ensure_ascii=False) + "\n")
    path = folder / f"results_{DATE}.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    return path


def _run(path: Path) -> report.Run:
    [run] = report.collect_runs([path])
    return run


def _by_name(rows) -> dict[tuple[str, str], object]:
    return {(r.scope, r.name): r for r in rows}


def test_clear_difference_is_significant_and_listed(tmp_path):
    base = _run(_write_run(tmp_path, "base", {"jamp": [1.0] * 20 + [0.0] * 80, "janli": [0.5] * 60,
                                              "jemhopqa": [0.3] * 50}))
    model = _run(_write_run(tmp_path, "model", {"jamp": [1.0] * 80 + [0.0] * 20, "janli": [0.5] * 60,
                                                "jemhopqa": [0.0] * 50}))
    comparison = compare_runs(base, model)
    assert comparison.reason is None and comparison.not_compared == {}
    rows = _by_name(comparison.rows)
    jamp, janli, qa = rows[("dataset", "jamp")], rows[("dataset", "janli")], rows[("category", "QA")]
    assert (jamp.n, jamp.delta) == (100, pytest.approx(0.6)) and jamp.p_value < 0.01 and jamp.ci_low > 0.4
    assert (janli.delta, janli.ci_low, janli.ci_high, janli.p_value) == (0.0, 0.0, 0.0, 1.0)
    nli = rows[("category", "NLI")]
    assert nli.delta == pytest.approx(0.3) and nli.n == 160 and nli.datasets == ("jamp", "janli")
    assert qa.delta == pytest.approx(-0.3) and qa.p_value < 0.01
    avg = rows[("avg", "AVG")]
    assert avg.delta == pytest.approx(0.0) and avg.n == 210
    markdown = comparison_markdown([comparison])
    wins = markdown.split("Significant wins", 1)[1].split("Significant losses", 1)[0]
    losses = markdown.split("Significant losses", 1)[1].split("| scope |", 1)[0]
    assert "- jamp (dataset) +0.6000" in wins and "- NLI (category) +0.3000" in wins and "janli" not in wins
    assert "- jemhopqa (dataset) -0.3000" in losses and "- QA (category) -0.3000" in losses
    assert "AVG" not in wins + losses  # AVG's delta is 0 here
    write_comparison_csv([comparison], tmp_path / "comparison.csv")
    with (tmp_path / "comparison.csv").open(encoding="utf-8", newline="") as f:
        rows_csv = list(csv.DictReader(f))
    assert [(r["scope"], r["name"]) for r in rows_csv] == [
        ("dataset", "jamp"), ("dataset", "janli"), ("dataset", "jemhopqa"), ("category", "NLI"),
        ("category", "QA"), ("avg", "AVG")]
    assert rows_csv[0]["baseline"] == "base" and rows_csv[0]["model"] == "model"
    assert float(rows_csv[0]["delta"]) == rounded(jamp.delta)
    assert float(rows_csv[0]["p_value"]) == rounded(jamp.p_value)


def test_only_overlapping_documents_are_compared(tmp_path):
    """Different limits: the first docs are common. A doc whose content differs (doc_hash) is left out."""
    base = _run(_write_run(tmp_path, "base", {"jamp": [1.0, 0.0, 1.0, 0.0], "mawps": [0.0] * 4}, limit=4))
    model = _run(_write_run(tmp_path, "model", {"jamp": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0], "janli": [1.0]}, limit=6,
                            hashes={"jamp": ["jamp-0", "changed", "jamp-2", "jamp-3", "jamp-4", "jamp-5"]}))
    comparison = compare_runs(base, model)
    assert comparison.reason is None
    assert comparison.coverage == ["datasets: mawps only in base; janli only in model", "limit 4 vs 6"]
    [jamp] = [r for r in comparison.rows if r.scope == "dataset"]
    assert (jamp.n, jamp.baseline_value, jamp.model_value) == (3, pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert comparison.not_compared == {
        "jamp": "1 doc(s) with the same doc_id hold different documents (doc_hash) and are left out",
        "mawps": "only base ran it", "janli": "only model ran it"}
    markdown = comparison_markdown([comparison])
    assert "Coverage differs (datasets: mawps only in base; janli only in model; limit 4 vs 6)" in markdown
    assert "- mawps: only base ran it" in markdown


def test_runs_whose_settings_differ_are_not_compared(tmp_path):
    base = _run(_write_run(tmp_path, "base", {"jamp": [1.0, 0.0]}, shots=4))
    model = _run(_write_run(tmp_path, "model", {"jamp": [1.0, 1.0]}, shots=0))
    comparison = compare_runs(base, model)
    assert comparison.rows == [] and comparison.reason == "settings differ: n-shot 4 vs 0"
    assert "Not compared: settings differ: n-shot 4 vs 0." in comparison_markdown([comparison])


def test_a_run_without_samples_files_is_not_compared(tmp_path):
    base = _run(_write_run(tmp_path, "base", {"jamp": [1.0, 0.0]}))
    bare = _run(_write_run(tmp_path, "bare", {"jamp": [1.0, 1.0]}, samples=False))
    comparison = compare_runs(base, bare)
    assert comparison.rows == [] and comparison.reason.startswith("the paired comparison needs --log_samples for bare")
    assert "Rerun it with --log_samples" in comparison_markdown([comparison])


def test_correlation_and_corpus_level_datasets(tmp_path):
    sts_base = [["1.0", "1.0"], ["2.0", "2.0"], ["4.0", "3.0"], ["x", "4.0"], ["3.0", "5.0"]]
    sts_model = [["1.0", "1.0"], ["2.0", "2.0"], ["3.0", "3.0"], ["4.0", "4.0"], ["5.0", "5.0"]]
    mt = [["src", "pred", "gold"]] * 3
    base = _run(_write_run(tmp_path, "base", {"jsts": sts_base, "alt-e-to-j": mt}))
    model = _run(_write_run(tmp_path, "model", {"jsts": sts_model, "alt-e-to-j": mt}))
    comparison = compare_runs(base, model)
    rows = _by_name(comparison.rows)
    jsts = rows[("dataset", "jsts")]
    assert jsts.model_value == pytest.approx(1.0)
    scores = model.scores["datasets"]["jsts"]["score"], base.scores["datasets"]["jsts"]["score"]
    assert jsts.delta == pytest.approx(scores[0] - scores[1])
    assert jsts.ci_low <= jsts.delta <= jsts.ci_high and ("category", "STS") in rows
    assert ("dataset", "alt-e-to-j") not in rows and ("avg", "AVG") not in rows  # STS is not in AVG; MT not compared
    assert "comet_wmt22 has no per-sample value" in comparison.not_compared["alt-e-to-j"]
    intervals = model.intervals
    assert "alt-e-to-j" in intervals.notes and "jsts" in intervals.datasets and "MT" not in intervals.categories


def test_report_command_end_to_end(tmp_path):
    paths = [_write_run(tmp_path, m, {"jamp": v, "jemhopqa": [0.5, 0.25, 0.75]})
             for m, v in (("base", [1.0, 0.0, 0.0]), ("a", [1.0, 1.0, 0.0]), ("b", [0.0, 0.0, 0.0]))]
    assert report.main([*map(str, paths), "--output-dir", str(tmp_path / "out")]) == 0
    with (tmp_path / "out" / "comparison.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["baseline"], r["model"]) for r in rows} == {("base", "a"), ("base", "b")}
    assert all(float(r["ci_low"]) <= float(r["delta"]) <= float(r["ci_high"]) for r in rows)
    markdown = (tmp_path / "out" / "comparison.md").read_text(encoding="utf-8")
    assert "## a vs base" in markdown and "## b vs base" in markdown


def test_one_number_reads_the_same_everywhere():
    """Markdown, the score table and report.html (JavaScript toFixed) show a number with the same digits: the
    rounded value, ties away from zero on its exact binary value."""
    from lm_eval_jaster.scores import fixed

    assert fixed(0.00195) == "0.0019"  # 0.00195 is 0.0019499999… in binary, as toFixed(4) reads it
    assert fixed(0.0019500000001) == "0.0020"
    assert fixed(0.03125) == "0.0313" and fixed(-0.03125) == "-0.0313"  # exact ties: away from zero, as toFixed
    assert fixed(0.5, 3, sign=True) == "+0.500" and fixed(-1e-9) == "0.0000"
    assert fixed(0.016040000000000002) == "0.0160"
