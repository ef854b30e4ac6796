"""Paired comparisons of each run with the first (the baseline): ``comparison.csv`` and ``comparison.md``.

Two runs are compared only when their settings agree on everything but the model, the limit and the set of datasets
(:func:`lm_eval_jaster.fingerprint.differences` with ``coverage=False``), and only on the samples both scored: same
dataset, same doc id and, when both samples files record it, the same document (lm-eval's ``doc_hash``). The
statistics are :func:`lm_eval_jaster.stats.compare`'s: delta = model − baseline, 95 % interval by paired bootstrap,
p-value by a two-sided paired sign-flip permutation test.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from lm_eval_jaster import stats
from lm_eval_jaster.fingerprint import differences
from lm_eval_jaster.registry import CATEGORIES
from lm_eval_jaster.report.markdown import md_table, md_text, num, signed
from lm_eval_jaster.report.runs import LOG_SAMPLES_HINT, Run
from lm_eval_jaster.scores import fixed, rounded

CSV_COLUMNS = ["baseline", "model", "scope", "name", "n", "delta", "ci_low", "ci_high", "p_value"]
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Comparison:
    """``model`` compared with ``baseline``. ``reason``: why they are not compared at all (None when they are);
    ``rows``: the comparison (datasets, categories, AVG); ``not_compared``: dataset → why it has no row;
    ``coverage``: differences of limit or datasets (the comparison uses the samples both scored)."""

    baseline: Run
    model: Run
    rows: list[stats.ComparisonRow] = field(default_factory=list)
    reason: str | None = None
    not_compared: dict[str, str] = field(default_factory=dict)
    coverage: list[str] = field(default_factory=list)

    def significant(self, wins: bool) -> list[stats.ComparisonRow]:
        return [r for r in self.rows if r.p_value < SIGNIFICANCE and (r.delta > 0 if wins else r.delta < 0)]


def _without_docs(samples: stats.DatasetSamples, dropped: set[int]) -> stats.DatasetSamples:
    ids, items = samples.ordered()
    kept = [(i, item) for i, item in zip(ids, items) if i not in dropped]
    return stats.DatasetSamples([item for _, item in kept], [i for i, _ in kept], samples.statistic)


def compare_runs(baseline: Run, model: Run, resamples: int = stats.RESAMPLES) -> Comparison:
    """The paired comparison of ``model`` with ``baseline`` (or why there is none)."""
    names = (baseline.label, model.label)
    settings = differences(baseline.settings, model.settings, names=names, coverage=False)
    coverage = [d for d in differences(baseline.settings, model.settings, names=names) if d not in settings]
    if settings:
        return Comparison(baseline, model, reason="settings differ: " + "; ".join(settings), coverage=coverage)
    missing = [r for r in (baseline, model) if not r.samples_files]
    if missing:
        return Comparison(baseline, model, coverage=coverage, reason="; ".join(
            f"the paired comparison needs --log_samples for {r.label}: no samples files next to {r.results_file}"
            for r in missing))
    base, base_notes = baseline.dataset_samples(complete=False)
    other, other_notes = model.dataset_samples(complete=False)
    not_compared: dict[str, str] = {}
    ran_base, ran_model = baseline.scores["datasets"], model.scores["datasets"]
    for name in [*ran_base, *(n for n in ran_model if n not in ran_base)]:
        if name not in ran_model or name not in ran_base:
            not_compared[name] = f"only {(baseline if name in ran_base else model).label} ran it"
        elif name in base_notes or name in other_notes:
            not_compared[name] = "; ".join(f"{r.label}: {notes[name]}" for r, notes in
                                           ((baseline, base_notes), (model, other_notes)) if name in notes)
    for name in [n for n in base if n in other]:
        hashes = {r.doc_id: r.doc_hash for r in baseline.samples[name]}
        changed = {r.doc_id for r in model.samples[name]
                   if r.doc_hash and hashes.get(r.doc_id) and hashes[r.doc_id] != r.doc_hash}
        if changed:
            other[name] = _without_docs(other[name], changed)
            not_compared[name] = (f"{len(changed)} doc(s) with the same doc_id hold different documents (doc_hash) "
                                  f"and are left out")
    members: dict[str, list[str]] = {}
    for run in (baseline, model):
        for category, datasets in stats.category_members(run.scores).items():
            members.setdefault(category, [])
            members[category] += [d for d in datasets if d not in members[category]]
    categories = {c: members[c] for c in CATEGORIES if c in members}
    averaged = [c for c in CATEGORIES if CATEGORIES[c].in_avg]
    rows = stats.compare(base, other, categories, averaged, resamples=resamples)
    compared = {r.name for r in rows if r.scope == "dataset"}
    for name in [n for n in base if n in other and n not in compared]:
        not_compared.setdefault(name, "no doc id scored by both runs")
    return Comparison(baseline, model, rows, None, not_compared, coverage)


def comparisons(runs: list[Run]) -> list[Comparison]:
    """Each run after the first compared with the first."""
    return [compare_runs(runs[0], run) for run in runs[1:]]


def write_comparison_csv(found: list[Comparison], path: Path) -> None:
    """``baseline, model, scope, name, n, delta, ci_low, ci_high, p_value``: one line per row of each comparison
    (numbers rounded as the score table is; rounding keeps ci_low ≤ delta ≤ ci_high)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for comparison in found:
            for row in comparison.rows:
                writer.writerow([comparison.baseline.label, comparison.model.label, row.scope, row.name, row.n,
                                 *(rounded(v) for v in (row.delta, row.ci_low, row.ci_high, row.p_value))])


def _row_text(row: stats.ComparisonRow) -> str:
    return (f"{md_text(row.name)} ({row.scope}) {signed(row.delta)} [{signed(row.ci_low)}, {signed(row.ci_high)}], "
            f"p = {fixed(row.p_value, 3)}, n = {row.n}")


def comparison_markdown(found: list[Comparison], resamples: int = stats.RESAMPLES) -> str:
    baseline = found[0].baseline.label if found else ""
    lines = ["# Paired comparisons", "",
             f"Baseline: **{md_text(baseline)}** (the first run). Every other run is compared with it on the samples "
             f"both scored: same dataset, same doc id and the same document (lm-eval's doc\\_hash). "
             f"delta = model − baseline, on those samples. 95 % interval: paired bootstrap ({resamples} resamples of "
             f"the doc ids, the same for both runs; categories and AVG resample within each dataset). p-value: "
             f"two-sided paired sign-flip permutation test ({resamples} random swaps of each doc's two results). "
             f"Significant: p < {SIGNIFICANCE} (not corrected for the number of rows). Category and AVG rows average "
             f"the datasets compared; n counts their samples. Runs are compared only when their settings agree on "
             f"everything but the model, the limit and the datasets."]
    for comparison in found:
        lines += ["", f"## {md_text(comparison.model.label)} vs {md_text(comparison.baseline.label)}", ""]
        if comparison.coverage:
            lines += [f"Coverage differs ({md_text('; '.join(comparison.coverage))}): compared on the samples both "
                      f"scored.", ""]
        if comparison.reason is not None:
            lines += [f"Not compared: {md_text(comparison.reason)}."
                      + (f" {LOG_SAMPLES_HINT}" if "--log_samples" in comparison.reason else ""), ""]
            continue
        for wins, title in ((True, "wins"), (False, "losses")):
            significant = [r for r in comparison.significant(wins) if r.scope != "avg"]
            lines.append(f"Significant {title} (p < {SIGNIFICANCE}), datasets and categories:"
                         + (" none." if not significant else ""))
            lines += [f"- {_row_text(r)}" for r in significant]
            lines.append("")
        head = ["scope", "name", "n", "baseline", "model", "delta", "95 % interval", "p"]
        table = [[r.scope, md_text(r.name), str(r.n), num(r.baseline_value), num(r.model_value), signed(r.delta),
                  f"[{signed(r.ci_low)}, {signed(r.ci_high)}]", fixed(r.p_value, 3)] for r in comparison.rows]
        lines += md_table(head, table, numeric_from=2) if table else ["No dataset has samples scored by both runs."]
        if comparison.not_compared:
            lines += ["", "Not compared:"]
            lines += [f"- {md_text(name)}: {md_text(why)}" for name, why in comparison.not_compared.items()]
    return "\n".join(lines) + "\n"
