"""Leaderboard tables (Markdown and CSV), one group of comparable runs at a time, and the coverage table.

Runs are comparable when their settings fingerprints (:mod:`lm_eval_jaster.fingerprint`) agree on everything but
the model. Each group gets its own tables; a group after the first says what differs from the first. Scores carry
their 95 % interval when the run has one (:attr:`Run.intervals`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lm_eval_jaster.fingerprint import describe, differences
from lm_eval_jaster.registry import CATEGORIES, all_datasets
from lm_eval_jaster.report.markdown import md_table, md_text, num
from lm_eval_jaster.report.runs import Run
from lm_eval_jaster.scores import FILTER, LENIENT_FILTER, fixed


@dataclass(frozen=True)
class Group:
    """Runs with the same settings (everything but the model). ``differences``: what differs from group 1."""

    number: int
    runs: list[Run]
    differences: list[str]

    @property
    def settings(self) -> dict[str, Any]:
        return self.runs[0].settings

    @property
    def title(self) -> str:
        return f"Group {self.number}: {describe(self.settings)}"


def comparable_groups(runs: list[Run]) -> list[Group]:
    """Runs grouped by settings, in order of first appearance."""
    members: list[list[Run]] = []
    for run in runs:
        for group in members:
            if not differences(group[0].settings, run.settings):
                group.append(run)
                break
        else:
            members.append([run])
    first = members[0][0].settings if members else {}
    return [Group(i, group, differences(first, group[0].settings, names=("group 1", f"group {i}")) if i > 1 else [])
            for i, group in enumerate(members, start=1)]


@dataclass(frozen=True)
class Columns:
    datasets: list[str]  # dataset names, registry order
    categories: list[str]  # category names, llm-jp-eval order
    lenient: bool  # some run has the lenient pipeline
    intervals: bool  # some run has intervals


def columns(runs: list[Run]) -> Columns:
    return Columns(
        datasets=[name for name in all_datasets() if any(name in r.scores["datasets"] for r in runs)],
        categories=[name for name in CATEGORIES if any(name in r.scores["categories"] for r in runs)],
        lenient=any(row.get("lenient_score") is not None for r in runs for row in r.scores["datasets"].values()),
        intervals=any(r.intervals is not None for r in runs),
    )


def fmt_limit(limit: Any) -> str:
    if limit is None:
        return "all"
    return str(int(limit)) if isinstance(limit, float) and limit.is_integer() else str(limit)


def fmt_shots(scores: dict) -> str:
    by_task = scores["num_fewshot"]
    if len(set(by_task.values())) == 1:
        return str(next(iter(by_task.values())))
    return " ".join(f"{name}={by_task.get(row['task'])}" for name, row in scores["datasets"].items())


def run_info(run: Run) -> dict[str, str]:
    config = run.results.get("config", {})
    args = config.get("model_args")
    return {
        "model": run.label,
        "split": str(run.scores["split"]),
        "limit": fmt_limit(run.scores["limit"]),
        "n_shot": fmt_shots(run.scores),
        "missing_categories": " ".join(run.scores["missing_categories"]),
        "chat_template": "yes" if run.results.get("chat_template") is not None else "no",
        "model_args": json.dumps(args, ensure_ascii=False) if isinstance(args, dict) else str(args or ""),
        "results_file": str(run.results_file),
    }


def strict_values(run: Run, cols: Columns) -> dict[str, float | None]:
    s = run.scores
    return {"AVG": s["AVG"], **{c: s["categories"].get(c) for c in cols.categories},
            **{d: (s["datasets"].get(d) or {}).get("score") for d in cols.datasets}}


def lenient_values(run: Run, cols: Columns) -> dict[str, float | None]:
    s = run.scores
    return {"AVG": s.get("lenient_AVG"), **{c: s.get("lenient_categories", {}).get(c) for c in cols.categories},
            **{d: (s["datasets"].get(d) or {}).get("lenient_score") for d in cols.datasets}}


def adherence_values(run: Run, cols: Columns) -> dict[str, float | None]:
    return {d: (run.scores["datasets"].get(d) or {}).get("format_adherence") for d in cols.datasets}


def interval_of(run: Run, name: str) -> tuple[float, float] | None:
    return None if run.intervals is None else run.intervals.get(name)


# --- CSV -----------------------------------------------------------------------------------------------------------

def leaderboard_rows(runs: list[Run]) -> tuple[list[str], list[dict[str, Any]]]:
    """CSV header and one row per run::

        model, group, not_comparable, split, limit, n_shot, missing_categories, chat_template, model_args,
        results_file, AVG, <category>..., <dataset>...      strict; a dataset column is its key metric
        <name>:ci_low, <name>:ci_high                          95 % intervals, when some run has them
        <name>:lenient, <dataset>:format_adherence            when some run has the lenient pipeline

    ``group`` numbers the groups of comparable runs; ``not_comparable`` says what differs from group 1.
    """
    cols = columns(runs)
    group_of = {id(run): group for group in comparable_groups(runs) for run in group.runs}
    rows = []
    for run in runs:
        group = group_of[id(run)]
        info = run_info(run)
        row: dict[str, Any] = {"model": info.pop("model"), "group": group.number,
                               "not_comparable": "; ".join(group.differences), **info}
        strict = strict_values(run, cols)
        row.update(strict)
        if cols.intervals:
            for name in strict:
                interval = interval_of(run, name)
                row[f"{name}:ci_low"], row[f"{name}:ci_high"] = interval if interval else (None, None)
        if cols.lenient:
            row.update({f"{k}:lenient": v for k, v in lenient_values(run, cols).items()})
            row.update({f"{k}:format_adherence": v for k, v in adherence_values(run, cols).items()})
        rows.append(row)
    return list(rows[0]), rows


def write_leaderboard_csv(runs: list[Run], path: Path) -> None:
    header, rows = leaderboard_rows(runs)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)


# --- Markdown ------------------------------------------------------------------------------------------------------

def _cell(value: float | None, interval: tuple[float, float] | None) -> str:
    if value is None:
        return "–"
    return f"{fixed(value)} [{fixed(interval[0], 3)}, {fixed(interval[1], 3)}]" if interval else fixed(value)


def _group_tables(group: Group, cols: Columns) -> list[str]:
    key = {name: all_datasets()[name].key_metric for name in cols.datasets}
    cat_head = [c if CATEGORIES[c].in_avg else f"{c} (not in AVG)" for c in cols.categories]
    score_head = ["AVG", *cat_head, *(f"{d} ({key[d]})" for d in cols.datasets)]
    meta_head = ["model", "split", "limit", "n-shot", "missing"]

    def meta(run: Run) -> list[str]:
        info = run_info(run)
        return [md_text(info[k]) for k in ("model", "split", "limit", "n_shot")] + [
            md_text(info["missing_categories"].replace(" ", ", ") or "–")]

    strict = [meta(r) + [_cell(v, interval_of(r, k)) for k, v in strict_values(r, cols).items()] for r in group.runs]
    lines = [f"### Strict (filter \"{FILTER}\", llm-jp-eval's scoring)", "",
             *md_table(meta_head + score_head, strict, numeric_from=len(meta_head))]
    if cols.lenient:
        lenient = [meta(r) + [num(v) for v in lenient_values(r, cols).values()] for r in group.runs]
        lines += ["", f"### Lenient (filter \"{LENIENT_FILTER}\": the answer extracted from free-form output)", "",
                  *md_table(meta_head + score_head, lenient, numeric_from=len(meta_head)), "",
                  "### Format adherence (per dataset)", "",
                  *md_table(["model", *cols.datasets],
                            [[md_text(r.label), *(num(v) for v in adherence_values(r, cols).values())]
                             for r in group.runs], numeric_from=1)]
    return lines


def coverage_table(runs: list[Run]) -> list[str]:
    """Datasets × runs: samples scored (lm-eval's effective count), "–" where the run lacks the dataset."""
    names = [name for name in all_datasets() if any(name in r.settings["datasets"] for r in runs)]

    def count(run: Run, name: str) -> str:
        if name not in run.settings["datasets"]:
            return "–"
        task = all_datasets()[name].task_name
        effective = ((run.results.get("n-samples") or {}).get(task) or {}).get("effective")
        return str(effective) if isinstance(effective, int) else "yes"

    rows = [[md_text(name), *(count(r, name) for r in runs)] for name in names]
    rows.append(["samples files (--log\\_samples)", *("yes" if r.samples_files else "**no**" for r in runs)])
    return md_table(["dataset", *(md_text(r.label) for r in runs)], rows, numeric_from=1)


def leaderboard_markdown(runs: list[Run]) -> str:
    """The leaderboard as Markdown: per group of comparable runs, one row per model in each table."""
    cols = columns(runs)
    references = sorted({r.scores["reference"] for r in runs})
    groups = comparable_groups(runs)
    lines = ["# Jaster leaderboard", "",
             f"Reference: {'; '.join(references)}. Scores recomputed from each lm-eval results file with "
             f"`compute_scores`. AVG is the mean of the categories that ran (\"missing\" ones are left out, where "
             f"llm-jp-eval would count them as 0).", "",
             "Runs are ranked together only when their settings agree on everything but the model (split, limit, "
             "n-shot, chat template and format, system instruction, generation arguments, versions, datasets): "
             + ("all runs here do." if len(groups) == 1 else
                f"here they fall into {len(groups)} groups, each with its own tables; numbers from different "
                f"groups are not comparable.")]
    if len(runs) > 1:
        lines += ["", f"Paired comparisons of every run with the first ({md_text(runs[0].label)}), with intervals and "
                  f"p-values: comparison.md and comparison.csv."]
    if cols.intervals:
        lines += ["", "Strict cells: score [95 % interval] (percentile bootstrap over samples, 1000 resamples; "
                  "categories and AVG resample within each dataset), when the run has samples files "
                  "(`--log_samples`) or its scores file carries intervals."]
    for group in groups:
        lines += ["", f"## {md_text(group.title)}", ""]
        if group.differences:
            lines += [f"Not comparable with group 1: {md_text('; '.join(group.differences))}.", ""]
        lines += _group_tables(group, columns(group.runs))
    lines += ["", "## Coverage (samples scored per dataset)", "", *coverage_table(runs)]
    run_rows = [[md_text(r.label), str(group.number), md_text(run_info(r)["results_file"]),
                 md_text(run_info(r)["model_args"]), run_info(r)["chat_template"]]
                for group in groups for r in group.runs]
    lines += ["", "## Runs", "", *md_table(["model", "group", "results file", "model_args", "chat template"],
                                          run_rows, numeric_from=5)]
    return "\n".join(lines) + "\n"
