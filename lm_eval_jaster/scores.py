"""llm-jp-eval's score table from lm-eval results: per-dataset metrics, category means, AVG.

llm-jp-eval (v1.3.0 ``post_process_score_results``): a category is the unweighted mean of its datasets' key
metric; AVG is the unweighted mean of the categories; JSTS (STS) is shown but not averaged. Only the
"llm-jp-eval" filter pipeline is read: it is the faithful one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from lm_eval_jaster.registry import CATEGORIES, all_datasets

FILTER = "llm-jp-eval"
LENIENT_FILTER = "lenient"
REFERENCE = "llm-jp-eval v1.4.1 data, v1.3.0 prompt and metrics"


def _value(task_results: dict, metric: str, filter_name: str = FILTER) -> float | None:
    value = task_results.get(f"{metric},{filter_name}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return 0.0 if math.isnan(value) else float(value)  # llm-jp-eval maps NaN to 0
    return None


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def compute_scores(results: dict[str, Any]) -> dict[str, Any] | None:
    """The llm-jp-eval table for the Jaster tasks in an lm-eval results dict; None if none ran."""
    task_results = results.get("results", {})
    datasets, per_category, per_category_lenient = {}, {}, {}
    for info in all_datasets().values():
        if info.task_name not in task_results:
            continue
        row = task_results[info.task_name]
        metrics = {m: _value(row, m) for m in info.metrics}
        if all(v is None for v in metrics.values()):  # e.g. --predict_only
            continue
        lenient = _value(row, info.key_metric, LENIENT_FILTER)
        datasets[info.name] = {"task": info.task_name, "category": info.category, "key_metric": info.key_metric,
                               "score": metrics[info.key_metric], "metrics": metrics,
                               "lenient_score": lenient,
                               "format_adherence": _value(row, "format_adherence", LENIENT_FILTER),
                               "in_avg": info.in_avg}
        if metrics[info.key_metric] is None:  # e.g. comet_wmt22 switched off: shown, not averaged
            continue
        if info.in_avg or not CATEGORIES[info.category].in_avg:  # datasets v1.4.1 did not run stay out of AVG
            per_category.setdefault(info.category, []).append(metrics[info.key_metric])
            per_category_lenient.setdefault(info.category, []).append(lenient)
    if not datasets:
        return None
    categories = {name: _mean(per_category[name]) for name in CATEGORIES if name in per_category}
    lenient_categories = {name: _mean(values) for name, values in per_category_lenient.items()
                          if None not in values}
    averaged = [name for name in categories if CATEGORIES[name].in_avg]
    lenient_avg = (_mean([lenient_categories[c] for c in averaged])
                   if averaged and all(c in lenient_categories for c in averaged) else None)
    expected = [name for name, c in CATEGORIES.items() if c.in_avg and any(
        i.category == name and i.in_avg for i in all_datasets().values())]
    first_task = next(iter(datasets.values()))["task"]
    config = results.get("config", {})
    return {
        "reference": REFERENCE,
        "filter": FILTER,
        "split": _eval_split(results, first_task),
        "num_fewshot": {d["task"]: results.get("n-shot", {}).get(d["task"]) for d in datasets.values()},
        "limit": config.get("limit"),
        "model": config.get("model"),
        "model_args": config.get("model_args"),
        "datasets": datasets,
        "categories": categories,
        "AVG": _mean([categories[c] for c in averaged]) if averaged else None,
        "avg_categories": averaged,
        "lenient_categories": lenient_categories,
        "lenient_AVG": lenient_avg,
        "missing_categories": [c for c in expected if c not in categories],
    }


def _eval_split(results: dict, task: str) -> str | None:
    from lm_eval_jaster.data import resolve_eval_split

    metadata = results.get("configs", {}).get(task, {}).get("metadata") or {}
    try:
        return resolve_eval_split(metadata.get("jaster_split"))
    except ValueError:
        return None


def _fmt(value: float | None, bold: bool = False) -> str:
    if value is None:
        return "–"
    return f"**{value:.4f}**" if bold else f"{value:.4f}"


def format_table(scores: dict[str, Any]) -> str:
    """Markdown table in llm-jp-eval's layout (values with four decimals, as llm-jp-eval prints them).

    "Score" is llm-jp-eval's (strict) score. When the run has the lenient pipeline, "Lenient" is the same metric on
    leniently extracted answers and "Format" the fraction of answers that needed no extraction.
    """
    lenient = any(row.get("lenient_score") is not None for row in scores["datasets"].values())
    head = "| Category | Dataset | Metric | Score |" + (" Lenient | Format |" if lenient else "")
    rule = "|---|---|---|---:|" + ("---:|---:|" if lenient else "")
    lines = [f"llm-jp-eval scores ({scores['reference']}; filter \"{scores['filter']}\", split {scores['split']}, "
             f"limit {scores['limit']})", "", head, rule]
    for category in CATEGORIES:
        rows = {name: row for name, row in scores["datasets"].items() if row["category"] == category}
        if not rows:
            continue
        for name, row in rows.items():
            label = name if row.get("in_avg", True) else f"{name} (not in AVG)"
            for metric, value in row["metrics"].items():
                extra = ""
                if lenient:
                    key = metric == row["key_metric"]
                    extra = (f" {_fmt(row.get('lenient_score') if key else None)} |"
                             f" {_fmt(row.get('format_adherence') if key else None)} |")
                lines.append(f"| {category} | {label} | {metric} | {_fmt(value)} |{extra}")
        if category not in scores["categories"]:
            continue
        mean = scores["categories"][category]
        note = "" if CATEGORIES[category].in_avg else " (not in AVG)"
        extra = f" {_fmt(scores.get('lenient_categories', {}).get(category), True)} | |" if lenient else ""
        lines.append(f"| **{category}**{note} | | mean | **{mean:.4f}** |{extra}")
    if scores["AVG"] is not None:
        extra = f" {_fmt(scores.get('lenient_AVG'), True)} | |" if lenient else ""
        lines.append(f"| **AVG** | {', '.join(scores['avg_categories'])} | mean of categories | "
                     f"**{scores['AVG']:.4f}** |{extra}")
    if scores["missing_categories"]:
        lines.append("")
        lines.append(f"AVG covers only the categories that ran; missing: {', '.join(scores['missing_categories'])} "
                     f"(llm-jp-eval itself would count a missing category as 0).")
    return "\n".join(lines)


def scores_path_for(results_file: Path) -> Path:
    """``results_<date>.json`` → ``jaster_scores_<date>.json`` in the same folder."""
    stem = results_file.stem
    suffix = stem[len("results"):] if stem.startswith("results") else f"_{stem}"
    return results_file.with_name(f"jaster_scores{suffix}.json")


def write_scores(scores: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scores, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def scores_from_file(results_file: Path) -> dict[str, Any] | None:
    try:
        results = json.loads(Path(results_file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SystemExit(f"cannot read lm-eval results file {results_file}: {e}")
    return compute_scores(results)


def compute_scores_file_or_exit(results_file: Path) -> dict[str, Any]:
    scores = scores_from_file(results_file)
    if scores is None:
        raise SystemExit(f"{results_file} holds no Jaster task results scored with the \"{FILTER}\" filter "
                         f"(was it a --predict_only run?).")
    return scores
